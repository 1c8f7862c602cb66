-- Analyst feedback through a transactional outbox (ADR 0057). The verdict (app.analyst_notes),
-- the alert's status (app.alerts) and the label to publish (app.feedback_outbox) commit in one
-- transaction; a relay inside the alert API (one leader per database, by advisory lock)
-- publishes unsent rows to fraud.feedback and then marks them sent. Nothing waits for Kafka
-- while it holds a pooled connection or a row lock.

-- How often the alert's verdict was changed (a first verdict is not a change); the API refuses
-- a change beyond its limit (409). Constant default: no table rewrite.
alter table app.alerts add column verdict_changes smallint not null default 0;

-- Audit trail: every verdict stays a row of app.analyst_notes; a re-label names the verdict it
-- replaced (null: the alert's first verdict).
alter table app.analyst_notes add column previous_verdict text
    check (previous_verdict in ('confirmed_fraud', 'false_positive'));

create table app.feedback_outbox (
    outbox_id       bigint generated always as identity primary key,
    alert_id        uuid        not null,
    transaction_id  text        not null,
    source          text        not null,
    label           text        not null check (label in ('fraud', 'legit')),
    -- The record exactly as published (streamflow.events encode_key/encode): a re-publish after
    -- a relay crash sends the same bytes under the same key (one per transaction and source).
    kafka_key       bytea       not null,
    payload         bytea       not null,
    created_at      timestamptz not null default now(),
    sent_at         timestamptz
);
-- The relay's queue: unsent rows in commit order.
create index feedback_outbox_unsent_idx on app.feedback_outbox (outbox_id) where sent_at is null;
-- Purge of sent rows past the retention.
create index feedback_outbox_sent_idx on app.feedback_outbox (sent_at) where sent_at is not null;

-- Wake the relay at commit (a NOTIFY is delivered when the inserting transaction commits); the
-- relay also polls, so a lost notification only delays a label.
create function app.notify_feedback_outbox() returns trigger
language plpgsql as $$
begin
    perform pg_notify('streamflow_feedback_outbox', '');
    return null;
end
$$;

create trigger feedback_outbox_notify
    after insert on app.feedback_outbox
    for each statement execute function app.notify_feedback_outbox();
