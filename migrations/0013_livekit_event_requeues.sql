DROP INDEX `livekit_events_unprocessed_idx`;--> statement-breakpoint
ALTER TABLE `livekit_events` ADD `requeues` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `livekit_events` ADD `abandoned_at` integer;--> statement-breakpoint
CREATE INDEX `livekit_events_unprocessed_idx` ON `livekit_events` (`received_at`,`id`) WHERE processed_at IS NULL AND abandoned_at IS NULL;