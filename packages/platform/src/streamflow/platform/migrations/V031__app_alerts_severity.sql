-- Analysts filter by severity (often with a rule): without this index such a page walks the
-- detected_at index and discards ~95% of the rows it reads (ADR 0050).
create index if not exists alerts_severity_idx
    on app.alerts (severity, detected_at desc, alert_id desc);
