-- The analyst workbench (issue #21 items 1, 2, 4; ADR 0100): search and cases.

-- Search by transaction id (customer and merchant have their own list indexes since V032).
create index if not exists alerts_transaction_idx on app.alerts (transaction_id);

-- A case groups alerts of one customer; the API moves it through its states and closing it
-- labels its alerts (feedback through the outbox, in the same transaction as the state change).
create table app.cases (
    case_id      bigint generated always as identity primary key,
    customer_id  text        not null,
    assignee     text,
    state        text        not null default 'open'
        check (state in ('open', 'in_review', 'closed_fraud', 'closed_legit')),
    created_at   timestamptz not null default now(),
    created_by   text        not null,
    updated_at   timestamptz not null default now(),
    closed_at    timestamptz,
    check ((closed_at is null) = (state in ('open', 'in_review')))
);
-- The case list: newest first, optionally per state / assignee / customer.
create index cases_state_idx on app.cases (state, case_id desc);
create index cases_customer_idx on app.cases (customer_id, case_id desc);
create index cases_assignee_idx on app.cases (assignee, case_id desc) where assignee is not null;

-- An alert belongs to at most one case.
create table app.case_alerts (
    alert_id  uuid   primary key references app.alerts (alert_id),
    case_id   bigint not null references app.cases (case_id),
    added_at  timestamptz not null default now()
);
create index case_alerts_case_idx on app.case_alerts (case_id, alert_id);

-- The audit trail: who did what when, append-only (the triggers below refuse any change).
create table app.case_events (
    event_id  bigint generated always as identity primary key,
    case_id   bigint      not null references app.cases (case_id),
    at        timestamptz not null default now(),
    key_id    text        not null,
    actor     text        not null,
    action    text        not null
        check (action in ('created', 'alerts_added', 'assigned', 'state_changed', 'closed')),
    detail    jsonb       not null default '{}'::jsonb
);
create index case_events_case_idx on app.case_events (case_id, event_id);

create function app.refuse_case_event_change() returns trigger
language plpgsql as $$
begin
    raise exception 'app.case_events is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
end
$$;

create trigger case_events_append_only
    before update or delete on app.case_events
    for each row execute function app.refuse_case_event_change();
create trigger case_events_no_truncate
    before truncate on app.case_events
    for each statement execute function app.refuse_case_event_change();
