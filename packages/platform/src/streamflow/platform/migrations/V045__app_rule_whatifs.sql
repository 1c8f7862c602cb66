-- The rule what-if (issue 21 item 6, ADR 0104): an admin's candidate rule set replayed against the
-- rule set in force over the last days of app.scored_transactions, by a low-priority worker
-- process of the alert API. One row per run: what was asked, its progress (the worker writes
-- rows_done and heartbeat_at every few thousand rows) and its result; and who published which
-- rule-set version from the API. The API role gets its grants from V040's default privileges.

create table app.rule_whatifs (
    whatif_id         bigint generated always as identity primary key,
    requested_by      text        not null,   -- the API key's id
    requested_by_name text        not null,
    requested_at      timestamptz not null default now(),
    status            text        not null default 'queued'
        check (status in ('queued', 'running', 'done', 'failed')),
    days              integer     not null check (days between 1 and 90),
    warmup_days       integer     not null check (warmup_days between 0 and 30),
    base_rules        jsonb       not null,
    candidate_rules   jsonb       not null,
    window_start      timestamptz,
    window_end        timestamptz,
    rows_total        bigint,
    rows_done         bigint      not null default 0,
    started_at        timestamptz,
    heartbeat_at      timestamptz,
    finished_at       timestamptz,
    result            jsonb,
    error             text,
    check ((status in ('done', 'failed')) = (finished_at is not null))
);
-- At most one what-if queued or running per database: the replay is bounded, not queued up.
create unique index rule_whatifs_one_active on app.rule_whatifs ((true))
    where status in ('queued', 'running');

-- Who published which rule-set version to fraud.rules from the API, and when (append-only).
create table app.rule_publications (
    publication_id    bigint generated always as identity primary key,
    rule_set_id       text        not null,
    version           bigint      not null,
    published_by      text        not null,
    published_by_name text        not null,
    published_at      timestamptz not null default now(),
    rules             jsonb       not null,
    topic             text        not null
);
