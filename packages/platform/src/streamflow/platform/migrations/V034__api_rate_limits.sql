-- Per-key request budgets shared by every alert API worker and pod (ADR 0058): one fixed-window
-- counter per key, upserted by each request of a rate-limited key (exempt keys never touch it).
-- One row per key (the window restarts in place), so the table never grows and needs no purge.
-- UNLOGGED: no WAL per request; after a PostgreSQL crash the counters start from zero, which at
-- worst grants one extra window. fillfactor 50 leaves room on each page for HOT updates.
create unlogged table app.api_rate_limits (
    key_id        text        primary key,
    window_start  timestamptz not null,
    hits          integer     not null
) with (fillfactor = 50);
