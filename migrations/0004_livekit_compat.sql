CREATE TABLE `livekit_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`api_key` text NOT NULL,
	`secret_encrypted` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `livekit_keys_api_key_uq` ON `livekit_keys` (`api_key`);--> statement-breakpoint
CREATE INDEX `livekit_keys_project_created_idx` ON `livekit_keys` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `livekit_keys_org_id_idx` ON `livekit_keys` (`org_id`);--> statement-breakpoint
CREATE INDEX `livekit_keys_created_by_idx` ON `livekit_keys` (`created_by`);--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `format` text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `livekit_key_id` text REFERENCES livekit_keys(id);--> statement-breakpoint
CREATE INDEX `webhook_endpoints_livekit_key_id_idx` ON `webhook_endpoints` (`livekit_key_id`);