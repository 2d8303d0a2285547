ALTER TABLE `webhook_endpoints` ADD `format` text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `livekit_key_id` text REFERENCES livekit_keys(id);--> statement-breakpoint
CREATE INDEX `webhook_endpoints_livekit_key_id_idx` ON `webhook_endpoints` (`livekit_key_id`);