CREATE TABLE `project_web_egress_origins` (
	`project_id` text PRIMARY KEY NOT NULL,
	`origins` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
