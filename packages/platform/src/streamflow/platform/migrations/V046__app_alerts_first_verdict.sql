-- Time to verdict without joining the notes (GET /v1/quality/verdict-time, ADR 0102). The
-- endpoint grouped every verdict note since the period's start by alert and hash-joined the
-- result with every alert of the period, reading the alerts' heap rows (~1 KB each with the
-- payload): at a million alerts in a period that neared the API's 5 s statement timeout. Each
-- alert now carries its first verdict's time, kept by the notes themselves (statement triggers
-- below), and a narrow covering index answers the period's scan as an index-only scan.
--
-- first_verdict_at is, as before, the time of the alert's oldest app.analyst_notes row with a
-- verdict (every verdict writes one: verdicts.py), whoever writes or corrects the notes.

alter table app.alerts add column first_verdict_at timestamptz;

update app.alerts as a
set first_verdict_at = f.first_at
from (
    select alert_id, min(created_at) as first_at
    from app.analyst_notes where verdict is not null group by alert_id
) as f
where a.alert_id = f.alert_id;

-- New notes can only make an alert's first verdict earlier: one update per statement (a verdict,
-- a bulk verdict, a closing case) for the alerts whose first verdict they change.
create function app.first_verdict_notes_inserted() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    update app.alerts as a
    set first_verdict_at = f.first_at
    from (
        select alert_id, min(created_at) as first_at
        from new_notes where verdict is not null group by alert_id
    ) as f
    where a.alert_id = f.alert_id
      and (a.first_verdict_at is null or a.first_verdict_at > f.first_at);
    return null;
end
$$;

-- Changed or deleted notes may move it either way: their alerts are recomputed (one probe of
-- analyst_notes_alert_created_idx each). The API never does either; an operator or a test may.
create function app.first_verdict_notes_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'UPDATE' then
        update app.alerts as a
        set first_verdict_at = (
            select min(n.created_at) from app.analyst_notes as n
            where n.alert_id = a.alert_id and n.verdict is not null
        )
        where a.alert_id in (select alert_id from old_notes union select alert_id from new_notes);
    else
        update app.alerts as a
        set first_verdict_at = (
            select min(n.created_at) from app.analyst_notes as n
            where n.alert_id = a.alert_id and n.verdict is not null
        )
        where a.alert_id in (select alert_id from old_notes);
    end if;
    return null;
end
$$;
-- Only the triggers run them, with the owner's rights (as the projections' functions).
revoke all on function app.first_verdict_notes_inserted() from public;
revoke all on function app.first_verdict_notes_changed() from public;

create trigger analyst_notes_first_verdict_insert
    after insert on app.analyst_notes
    referencing new table as new_notes
    for each statement execute function app.first_verdict_notes_inserted();
create trigger analyst_notes_first_verdict_update
    after update on app.analyst_notes
    referencing old table as old_notes new table as new_notes
    for each statement execute function app.first_verdict_notes_changed();
create trigger analyst_notes_first_verdict_delete
    after delete on app.analyst_notes
    referencing old table as old_notes
    for each statement execute function app.first_verdict_notes_changed();

-- The period's alerts by UTC day of detection with exactly what the statement reads: an
-- index-only scan of a few tens of bytes per alert instead of the heap, and the per-day groups
-- in index order (no sort of the period's alerts). The list indexes (V032) carry neither the day
-- nor the verdict times. Costs one more index entry per projected alert (~50 MB per million).
create index alerts_verdict_time_idx
    on app.alerts (((detected_at at time zone 'UTC')::date), detected_at)
    include (status, status_updated_at, first_verdict_at);
