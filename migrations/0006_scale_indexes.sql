CREATE TABLE `metric_counts` (
	`name` text NOT NULL,
	`label` text DEFAULT '' NOT NULL,
	`value` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`name`, `label`)
);
--> statement-breakpoint
CREATE TABLE `usage_dirty_hours` (
	`hour_start` integer PRIMARY KEY NOT NULL,
	`marked_at` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `usage_events_org_id_idx`;--> statement-breakpoint
DROP INDEX `usage_events_project_occurred_idx`;--> statement-breakpoint
DROP INDEX `usage_events_occurred_at_idx`;--> statement-breakpoint
CREATE INDEX `usage_events_org_occurred_idx` ON `usage_events` (`org_id`,`occurred_at`,`meter`,`quantity`);--> statement-breakpoint
CREATE INDEX `usage_events_project_occurred_idx` ON `usage_events` (`project_id`,`occurred_at`,`meter`,`quantity`);--> statement-breakpoint
CREATE INDEX `usage_events_occurred_at_idx` ON `usage_events` (`occurred_at`,`project_id`,`org_id`,`meter`,`quantity`);--> statement-breakpoint
DROP INDEX `webhook_messages_status_idx`;--> statement-breakpoint
DROP INDEX `webhook_messages_endpoint_created_idx`;--> statement-breakpoint
DROP INDEX `webhook_messages_project_id_idx`;--> statement-breakpoint
CREATE INDEX `webhook_messages_endpoint_status_idx` ON `webhook_messages` (`endpoint_id`,`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_messages_status_next_idx` ON `webhook_messages` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_messages_status_created_idx` ON `webhook_messages` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_messages_endpoint_created_idx` ON `webhook_messages` (`endpoint_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_messages_project_id_idx` ON `webhook_messages` (`project_id`,`source_id`);--> statement-breakpoint
DROP INDEX `api_keys_project_id_created_at_idx`;--> statement-breakpoint
CREATE INDEX `api_keys_project_id_created_at_idx` ON `api_keys` (`project_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `audit_logs_org_action_idx`;--> statement-breakpoint
DROP INDEX `audit_logs_org_actor_idx`;--> statement-breakpoint
DROP INDEX `audit_logs_org_resource_idx`;--> statement-breakpoint
DROP INDEX `audit_logs_org_project_idx`;--> statement-breakpoint
CREATE INDEX `audit_logs_org_resource_id_idx` ON `audit_logs` (`org_id`,`resource_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_action_idx` ON `audit_logs` (`org_id`,`action`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_actor_idx` ON `audit_logs` (`org_id`,`actor_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_resource_idx` ON `audit_logs` (`org_id`,`resource_type`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_logs_org_project_idx` ON `audit_logs` (`org_id`,`project_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `egresses_project_created_idx`;--> statement-breakpoint
DROP INDEX `egresses_project_room_idx`;--> statement-breakpoint
CREATE INDEX `egresses_ended_at_idx` ON `egresses` (`ended_at`);--> statement-breakpoint
CREATE INDEX `egresses_project_created_idx` ON `egresses` (`project_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `egresses_project_room_idx` ON `egresses` (`project_id`,`room`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `ingresses_project_created_idx`;--> statement-breakpoint
DROP INDEX `ingresses_project_room_idx`;--> statement-breakpoint
CREATE INDEX `ingresses_deleted_at_idx` ON `ingresses` (`deleted_at`);--> statement-breakpoint
CREATE INDEX `ingresses_project_created_idx` ON `ingresses` (`project_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `ingresses_project_room_idx` ON `ingresses` (`project_id`,`room`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `invitations_org_id_created_at_idx`;--> statement-breakpoint
CREATE INDEX `invitations_revoked_at_idx` ON `invitations` (`revoked_at`);--> statement-breakpoint
CREATE INDEX `invitations_org_id_created_at_idx` ON `invitations` (`org_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `invoices_org_created_idx`;--> statement-breakpoint
CREATE INDEX `invoices_org_created_idx` ON `invoices` (`org_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `livekit_events_room_name_idx`;--> statement-breakpoint
CREATE INDEX `livekit_events_room_name_idx` ON `livekit_events` (`room_name`,`occurred_at`);--> statement-breakpoint
DROP INDEX `livekit_keys_project_created_idx`;--> statement-breakpoint
CREATE INDEX `livekit_keys_project_created_idx` ON `livekit_keys` (`project_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `projects_org_id_created_at_idx`;--> statement-breakpoint
CREATE INDEX `projects_deleted_at_idx` ON `projects` (`deleted_at`) WHERE deleted_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `projects_org_id_created_at_idx` ON `projects` (`org_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `usage_dimension_rollups_org_idx`;--> statement-breakpoint
CREATE INDEX `usage_dimension_rollups_bucket_idx` ON `usage_dimension_rollups` (`granularity`,`bucket_start`,`project_id`,`org_id`,`dimension`,`key`,`meter`,`quantity`);--> statement-breakpoint
CREATE INDEX `usage_dimension_rollups_org_idx` ON `usage_dimension_rollups` (`org_id`,`dimension`,`granularity`,`bucket_start`,`key`,`meter`,`quantity`);--> statement-breakpoint
DROP INDEX `usage_rollups_org_idx`;--> statement-breakpoint
DROP INDEX `usage_rollups_project_bucket_idx`;--> statement-breakpoint
CREATE INDEX `usage_rollups_bucket_idx` ON `usage_rollups` (`granularity`,`bucket_start`,`project_id`,`org_id`,`meter`,`quantity`);--> statement-breakpoint
CREATE INDEX `usage_rollups_org_idx` ON `usage_rollups` (`org_id`,`granularity`,`bucket_start`,`meter`,`quantity`);--> statement-breakpoint
CREATE INDEX `usage_rollups_project_bucket_idx` ON `usage_rollups` (`project_id`,`granularity`,`bucket_start`,`meter`,`quantity`);--> statement-breakpoint
DROP INDEX `webhook_endpoints_project_id_created_at_idx`;--> statement-breakpoint
CREATE INDEX `webhook_endpoints_failing_idx` ON `webhook_endpoints` (`failing_since`) WHERE failing_since IS NOT NULL;--> statement-breakpoint
CREATE INDEX `webhook_endpoints_project_id_created_at_idx` ON `webhook_endpoints` (`project_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `memberships_org_created_idx` ON `memberships` (`org_id`,`created_at`,`user_id`);--> statement-breakpoint
CREATE INDEX `room_sessions_ended_at_idx` ON `room_sessions` (`ended_at`);--> statement-breakpoint
CREATE INDEX `sessions_revoked_at_idx` ON `sessions` (`revoked_at`);--> statement-breakpoint
CREATE INDEX `user_tokens_used_at_idx` ON `user_tokens` (`used_at`);