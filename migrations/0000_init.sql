CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_uq` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_project_id_created_at_idx` ON `api_keys` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `api_keys_org_id_idx` ON `api_keys` (`org_id`);--> statement-breakpoint
CREATE INDEX `api_keys_created_by_idx` ON `api_keys` (`created_by`);--> statement-breakpoint
CREATE TABLE `audit_logs` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text,
	`project_id` text,
	`actor_type` text NOT NULL,
	`actor_id` text,
	`action` text NOT NULL,
	`resource_type` text NOT NULL,
	`resource_id` text,
	`ip` text,
	`user_agent` text,
	`request_id` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_logs_org_created_idx` ON `audit_logs` (`org_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_action_idx` ON `audit_logs` (`org_id`,`action`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_actor_idx` ON `audit_logs` (`org_id`,`actor_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_resource_idx` ON `audit_logs` (`org_id`,`resource_type`,`resource_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_project_idx` ON `audit_logs` (`org_id`,`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_logs_created_at_idx` ON `audit_logs` (`created_at`);--> statement-breakpoint
CREATE TABLE `egresses` (
	`id` text PRIMARY KEY NOT NULL,
	`egress_id` text NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`type` text NOT NULL,
	`room` text,
	`status` text NOT NULL,
	`outputs` text DEFAULT '[]' NOT NULL,
	`error` text,
	`started_at` integer,
	`ended_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `egresses_egress_id_uq` ON `egresses` (`egress_id`);--> statement-breakpoint
CREATE INDEX `egresses_project_created_idx` ON `egresses` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `egresses_project_room_idx` ON `egresses` (`project_id`,`room`);--> statement-breakpoint
CREATE INDEX `egresses_project_status_idx` ON `egresses` (`project_id`,`status`);--> statement-breakpoint
CREATE INDEX `egresses_org_id_idx` ON `egresses` (`org_id`);--> statement-breakpoint
CREATE TABLE `ingresses` (
	`id` text PRIMARY KEY NOT NULL,
	`ingress_id` text NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`input_type` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`room` text NOT NULL,
	`participant_identity` text NOT NULL,
	`url` text,
	`stream_key_encrypted` text,
	`status` text NOT NULL,
	`error` text,
	`started_at` integer,
	`ended_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ingresses_ingress_id_uq` ON `ingresses` (`ingress_id`);--> statement-breakpoint
CREATE INDEX `ingresses_project_created_idx` ON `ingresses` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `ingresses_project_room_idx` ON `ingresses` (`project_id`,`room`);--> statement-breakpoint
CREATE INDEX `ingresses_org_id_idx` ON `ingresses` (`org_id`);--> statement-breakpoint
CREATE TABLE `invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`email` text NOT NULL,
	`email_normalized` text NOT NULL,
	`role` text NOT NULL,
	`token_hash` text NOT NULL,
	`invited_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`accepted_at` integer,
	`accepted_by` text,
	`revoked_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`invited_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`accepted_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invitations_token_hash_uq` ON `invitations` (`token_hash`);--> statement-breakpoint
CREATE INDEX `invitations_org_id_created_at_idx` ON `invitations` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `invitations_org_email_idx` ON `invitations` (`org_id`,`email_normalized`);--> statement-breakpoint
CREATE INDEX `invitations_invited_by_idx` ON `invitations` (`invited_by`);--> statement-breakpoint
CREATE INDEX `invitations_accepted_by_idx` ON `invitations` (`accepted_by`);--> statement-breakpoint
CREATE INDEX `invitations_expires_at_idx` ON `invitations` (`expires_at`);--> statement-breakpoint
CREATE TABLE `invoice_lines` (
	`id` text PRIMARY KEY NOT NULL,
	`invoice_id` text NOT NULL,
	`kind` text NOT NULL,
	`description` text NOT NULL,
	`quantity` real NOT NULL,
	`included_quantity` real DEFAULT 0 NOT NULL,
	`unit_price_micros` integer DEFAULT 0 NOT NULL,
	`amount_cents` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`invoice_id`) REFERENCES `invoices`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `invoice_lines_invoice_id_idx` ON `invoice_lines` (`invoice_id`);--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`period_start` integer NOT NULL,
	`period_end` integer NOT NULL,
	`status` text NOT NULL,
	`currency` text DEFAULT 'usd' NOT NULL,
	`subtotal_cents` integer NOT NULL,
	`total_cents` integer NOT NULL,
	`created_at` integer NOT NULL,
	`finalized_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_org_period_uq` ON `invoices` (`org_id`,`period_start`);--> statement-breakpoint
CREATE INDEX `invoices_org_created_idx` ON `invoices` (`org_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `invoices_plan_id_idx` ON `invoices` (`plan_id`);--> statement-breakpoint
CREATE INDEX `invoices_status_idx` ON `invoices` (`status`);--> statement-breakpoint
CREATE TABLE `livekit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`event` text NOT NULL,
	`room_name` text,
	`project_id` text,
	`payload` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `livekit_events_event_id_uq` ON `livekit_events` (`event_id`);--> statement-breakpoint
CREATE INDEX `livekit_events_project_id_idx` ON `livekit_events` (`project_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `livekit_events_room_name_idx` ON `livekit_events` (`room_name`);--> statement-breakpoint
CREATE INDEX `livekit_events_received_at_idx` ON `livekit_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `memberships` (
	`org_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `user_id`),
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `memberships_user_id_idx` ON `memberships` (`user_id`);--> statement-breakpoint
CREATE TABLE `organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`plan_id` text DEFAULT 'free' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `organizations_plan_id_idx` ON `organizations` (`plan_id`);--> statement-breakpoint
CREATE INDEX `organizations_created_at_idx` ON `organizations` (`created_at`);--> statement-breakpoint
CREATE TABLE `participant_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`room` text NOT NULL,
	`room_sid` text,
	`participant_sid` text NOT NULL,
	`identity` text NOT NULL,
	`joined_at` integer NOT NULL,
	`left_at` integer,
	`minutes` integer,
	`end_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `participant_sessions_participant_sid_uq` ON `participant_sessions` (`participant_sid`);--> statement-breakpoint
CREATE INDEX `participant_sessions_project_joined_idx` ON `participant_sessions` (`project_id`,`joined_at`);--> statement-breakpoint
CREATE INDEX `participant_sessions_org_id_idx` ON `participant_sessions` (`org_id`);--> statement-breakpoint
CREATE INDEX `participant_sessions_open_idx` ON `participant_sessions` (`left_at`,`joined_at`);--> statement-breakpoint
CREATE INDEX `participant_sessions_room_sid_idx` ON `participant_sessions` (`room_sid`);--> statement-breakpoint
CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`monthly_price_cents` integer NOT NULL,
	`currency` text DEFAULT 'usd' NOT NULL,
	`included` text NOT NULL,
	`overage_rates` text NOT NULL,
	`hard_cap` integer DEFAULT false NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`name` text NOT NULL,
	`rate_limit_per_min` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `projects_org_id_created_at_idx` ON `projects` (`org_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`ip` text,
	`user_agent` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_token_hash_uq` ON `sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `sessions_user_id_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `sessions_expires_at_idx` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`meter` text NOT NULL,
	`quantity` real NOT NULL,
	`occurred_at` integer NOT NULL,
	`source_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_source_uq` ON `usage_events` (`meter`,`source_id`);--> statement-breakpoint
CREATE INDEX `usage_events_project_occurred_idx` ON `usage_events` (`project_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `usage_events_org_id_idx` ON `usage_events` (`org_id`);--> statement-breakpoint
CREATE INDEX `usage_events_occurred_at_idx` ON `usage_events` (`occurred_at`);--> statement-breakpoint
CREATE TABLE `usage_rollups` (
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`meter` text NOT NULL,
	`granularity` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`quantity` real NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`project_id`, `meter`, `granularity`, `bucket_start`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `usage_rollups_org_idx` ON `usage_rollups` (`org_id`,`granularity`,`bucket_start`);--> statement-breakpoint
CREATE INDEX `usage_rollups_project_bucket_idx` ON `usage_rollups` (`project_id`,`granularity`,`bucket_start`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`email_normalized` text NOT NULL,
	`name` text NOT NULL,
	`password_hash` text NOT NULL,
	`email_verified_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_normalized_uq` ON `users` (`email_normalized`);--> statement-breakpoint
CREATE TABLE `webhook_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`duration_ms` integer NOT NULL,
	`response_body` text,
	`error` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `webhook_messages`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_message_id_idx` ON `webhook_attempts` (`message_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_attempts_endpoint_id_idx` ON `webhook_attempts` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`org_id` text NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`events` text,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`secret_encrypted` text NOT NULL,
	`previous_secret_encrypted` text,
	`previous_secret_expires_at` integer,
	`failing_since` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`org_id`) REFERENCES `organizations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_endpoints_project_id_created_at_idx` ON `webhook_endpoints` (`project_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_endpoints_org_id_idx` ON `webhook_endpoints` (`org_id`);--> statement-breakpoint
CREATE TABLE `webhook_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`source_id` text,
	`next_attempt_at` integer,
	`last_attempt_at` integer,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_messages_endpoint_created_idx` ON `webhook_messages` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_messages_project_id_idx` ON `webhook_messages` (`project_id`);--> statement-breakpoint
CREATE INDEX `webhook_messages_status_idx` ON `webhook_messages` (`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_messages_endpoint_source_uq` ON `webhook_messages` (`endpoint_id`,`source_id`);