-- Failed authentications per client address, shared by every alert API worker and pod (ADR 0090,
-- "Shared failed-auth throttle"; limits.py): one token bucket per address, refilled by the
-- database's clock. Only a 401 touches it (good keys never do), in one coalesced upsert per
-- process at a time. A row whose bucket has refilled completely means nothing and is pruned.
-- UNLOGGED: no WAL per failure; after a PostgreSQL crash every address starts with a full bucket.
-- No index beyond the key, so the upsert stays a HOT update (fillfactor 50 leaves the room);
-- the prune scans the table, which holds only addresses that failed within the refill time.
create unlogged table app.api_auth_failures (
    address     text             primary key,
    tokens      double precision not null,
    updated_at  timestamptz      not null
) with (fillfactor = 50);
-- The API role gets select, insert, update, delete on it from V040's default privileges in app.
