-- Every inserted usage event marks its UTC hour for the incremental rollup (src/usage/rollup.ts).
CREATE TRIGGER usage_events_mark_dirty_hour AFTER INSERT ON usage_events BEGIN
  INSERT OR IGNORE INTO usage_dirty_hours (hour_start, marked_at) VALUES ((CAST(NEW.occurred_at AS INTEGER) / 3600000) * 3600000, NEW.created_at);
END;
--> statement-breakpoint
-- Hours of the last 35 days that may predate the incremental rollup are rolled up once more.
INSERT OR IGNORE INTO usage_dirty_hours (hour_start, marked_at)
  SELECT DISTINCT (CAST(occurred_at AS INTEGER) / 3600000) * 3600000, CAST(unixepoch('subsec') * 1000 AS INTEGER)
  FROM usage_events WHERE occurred_at >= (unixepoch() - 35 * 86400) * 1000;
--> statement-breakpoint
-- Row counts for GET /metrics (src/admin/metrics.ts), kept by triggers and seeded from the tables once.
CREATE TRIGGER metric_users_insert AFTER INSERT ON users BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_users', '', 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_users_delete AFTER DELETE ON users BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_users', '', -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_users', '', COUNT(*) FROM users;
--> statement-breakpoint
CREATE TRIGGER metric_organizations_insert AFTER INSERT ON organizations WHEN NEW.deleted_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_organizations', '', 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_organizations_delete AFTER DELETE ON organizations WHEN OLD.deleted_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_organizations', '', -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_organizations', '', COUNT(*) FROM organizations WHERE deleted_at IS NULL;
--> statement-breakpoint
CREATE TRIGGER metric_organizations_update AFTER UPDATE OF deleted_at ON organizations WHEN (NEW.deleted_at IS NULL) IS NOT (OLD.deleted_at IS NULL) BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_organizations', '', CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) ON CONFLICT (name, label) DO UPDATE SET value = value + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END);
END;
--> statement-breakpoint
CREATE TRIGGER metric_projects_insert AFTER INSERT ON projects WHEN NEW.deleted_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_projects', '', 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_projects_delete AFTER DELETE ON projects WHEN OLD.deleted_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_projects', '', -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_projects', '', COUNT(*) FROM projects WHERE deleted_at IS NULL;
--> statement-breakpoint
CREATE TRIGGER metric_projects_update AFTER UPDATE OF deleted_at ON projects WHEN (NEW.deleted_at IS NULL) IS NOT (OLD.deleted_at IS NULL) BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_projects', '', CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) ON CONFLICT (name, label) DO UPDATE SET value = value + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END);
END;
--> statement-breakpoint
CREATE TRIGGER metric_api_keys_insert AFTER INSERT ON api_keys WHEN NEW.revoked_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_api_keys_active', '', 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_api_keys_delete AFTER DELETE ON api_keys WHEN OLD.revoked_at IS NULL BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_api_keys_active', '', -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_api_keys_active', '', COUNT(*) FROM api_keys WHERE revoked_at IS NULL;
--> statement-breakpoint
CREATE TRIGGER metric_api_keys_update AFTER UPDATE OF revoked_at ON api_keys WHEN (NEW.revoked_at IS NULL) IS NOT (OLD.revoked_at IS NULL) BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_api_keys_active', '', CASE WHEN NEW.revoked_at IS NULL THEN 1 ELSE -1 END) ON CONFLICT (name, label) DO UPDATE SET value = value + (CASE WHEN NEW.revoked_at IS NULL THEN 1 ELSE -1 END);
END;
--> statement-breakpoint
CREATE TRIGGER metric_livekit_events_insert AFTER INSERT ON livekit_events BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_livekit_events', '', 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_livekit_events_delete AFTER DELETE ON livekit_events BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_livekit_events', '', -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_livekit_events', '', COUNT(*) FROM livekit_events;
--> statement-breakpoint
CREATE TRIGGER metric_webhook_messages_insert AFTER INSERT ON webhook_messages BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_webhook_messages', NEW.status, 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_webhook_messages_update AFTER UPDATE OF status ON webhook_messages WHEN NEW.status IS NOT OLD.status BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_webhook_messages', OLD.status, -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_webhook_messages', NEW.status, 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_webhook_messages_delete AFTER DELETE ON webhook_messages BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_webhook_messages', OLD.status, -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_webhook_messages', status, COUNT(*) FROM webhook_messages GROUP BY status;
--> statement-breakpoint
CREATE TRIGGER metric_egresses_insert AFTER INSERT ON egresses BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_egresses', NEW.status, 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_egresses_update AFTER UPDATE OF status ON egresses WHEN NEW.status IS NOT OLD.status BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_egresses', OLD.status, -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_egresses', NEW.status, 1) ON CONFLICT (name, label) DO UPDATE SET value = value + (1);
END;
--> statement-breakpoint
CREATE TRIGGER metric_egresses_delete AFTER DELETE ON egresses BEGIN
  INSERT INTO metric_counts (name, label, value) VALUES ('pulse_egresses', OLD.status, -1) ON CONFLICT (name, label) DO UPDATE SET value = value + (-1);
END;
--> statement-breakpoint
INSERT INTO metric_counts (name, label, value) SELECT 'pulse_egresses', status, COUNT(*) FROM egresses GROUP BY status;
