-- The alert API's own tables: API keys (hashed), alert status and analyst notes.
create table app.api_keys (
    key_id        text primary key,
    name          text not null,
    key_hash      text not null unique,
    scopes        text[] not null,
    rate_limit_per_minute integer,
    created_at    timestamptz not null default now(),
    revoked_at    timestamptz
);

create table app.alert_status (
    alert_id      uuid primary key,
    status        text not null check (status in ('new', 'confirmed_fraud', 'false_positive')),
    updated_at    timestamptz not null default now(),
    updated_by    text
);

create table app.analyst_notes (
    note_id       bigserial primary key,
    alert_id      uuid not null,
    verdict       text check (verdict in ('confirmed_fraud', 'false_positive')),
    note          text,
    key_id        text references app.api_keys (key_id),
    created_at    timestamptz not null default now()
);
create index on app.analyst_notes (alert_id);
