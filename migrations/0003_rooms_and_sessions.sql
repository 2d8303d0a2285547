CREATE TABLE `known_rooms` (
	`project_id` text NOT NULL,
	`name` text NOT NULL,
	`last_seen_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `name`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `room_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`room` text NOT NULL,
	`room_sid` text,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`participant_count` integer DEFAULT 0 NOT NULL,
	`peak_participants` integer DEFAULT 0 NOT NULL,
	`participant_minutes` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `room_sessions_room_sid_uq` ON `room_sessions` (`room_sid`);--> statement-breakpoint
CREATE INDEX `room_sessions_project_started_idx` ON `room_sessions` (`project_id`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `room_sessions_project_room_started_idx` ON `room_sessions` (`project_id`,`room`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `room_sessions_org_id_idx` ON `room_sessions` (`org_id`);--> statement-breakpoint
CREATE TABLE `usage_dimension_rollups` (
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`meter` text NOT NULL,
	`granularity` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`quantity` real NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `dimension`, `granularity`, `bucket_start`, `key`, `meter`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_dimension_rollups_org_idx` ON `usage_dimension_rollups` (`org_id`,`dimension`,`granularity`,`bucket_start`);--> statement-breakpoint
ALTER TABLE `participant_sessions` ADD `name` text;--> statement-breakpoint
ALTER TABLE `participant_sessions` ADD `room_session_id` text;--> statement-breakpoint
CREATE INDEX `participant_sessions_room_session_idx` ON `participant_sessions` (`room_session_id`,`joined_at`);--> statement-breakpoint
ALTER TABLE `usage_events` ADD `room` text;--> statement-breakpoint
ALTER TABLE `usage_events` ADD `identity` text;