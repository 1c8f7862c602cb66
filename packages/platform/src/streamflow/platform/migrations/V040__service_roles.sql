-- Least privilege (issue 17, docs/adr/0105): one PostgreSQL role per service, the grant table of
-- ADR 0105 in SQL. The migrator (the role running this, the database owner `streamflow`) keeps
-- bronze, ref and app; dbt/Airflow (streamflow_warehouse) owns silver, gold and ops; no service
-- role owns another's schema. The roles are created here without a login; the deployment gives
-- each its login and password (scripts/infra/postgres.sh locally, CloudNativePG managed roles from
-- Kubernetes secrets in prod). Roles are cluster-wide: creation is idempotent and tolerates a
-- concurrent migrator in another database; the grants below are per database.
do $$
declare
    r text;
begin
    foreach r in array array[
        'streamflow_ingestor', 'streamflow_api', 'streamflow_generator', 'streamflow_warehouse'
    ] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            begin
                execute format('create role %I nologin', r);
            exception when duplicate_object or unique_violation then
                null;  -- created meanwhile by a migrator of another database
            end;
        end if;
    end loop;
end
$$;

-- The migrator hands silver/gold/ops to the warehouse role, which needs membership of it.
do $$
begin
    if not pg_has_role(current_user, 'streamflow_warehouse', 'member') then
        execute format('grant streamflow_warehouse to %I', current_user);
    end if;
end
$$;

-- Nothing for PUBLIC beyond connecting: no objects in public, no functions of ours.
revoke create on schema public from public;

-- ingestor: lands every topic in bronze and its own dead letters (replay marks them reprocessed).
grant usage on schema bronze to streamflow_ingestor;
grant select, insert, update on all tables in schema bronze to streamflow_ingestor;
grant usage, select on all sequences in schema bronze to streamflow_ingestor;
alter default privileges in schema bronze
    grant select, insert, update on tables to streamflow_ingestor;
alter default privileges in schema bronze grant usage, select on sequences to streamflow_ingestor;

-- Landing an alert projects it into app.alerts (trigger on bronze.fraud_alerts): the function runs
-- with its owner's rights, so the ingestor needs no grant on the API's schema.
alter function app.project_fraud_alert() security definer set search_path = pg_catalog, pg_temp;
revoke all on function app.project_fraud_alert() from public;

-- alert API: its own tables in app, read/write; reads the transactions and metrics it shows and
-- the reference data.
grant usage on schema app to streamflow_api;
grant select, insert, update, delete on all tables in schema app to streamflow_api;
grant usage, select on all sequences in schema app to streamflow_api;
alter default privileges in schema app
    grant select, insert, update, delete on tables to streamflow_api;
alter default privileges in schema app grant usage, select on sequences to streamflow_api;
grant usage on schema bronze, ref to streamflow_api;
grant select on bronze.transactions, bronze.realtime_metrics to streamflow_api;
grant select on all tables in schema ref to streamflow_api;
alter default privileges in schema ref grant select on tables to streamflow_api;

-- generator: seeds the reference data (upserts into ref).
grant usage on schema ref to streamflow_generator;
grant select, insert, update on all tables in schema ref to streamflow_generator;
alter default privileges in schema ref grant select, insert, update on tables to streamflow_generator;

-- dbt and Airflow: read bronze and ref, delete expired bronze rows (retention DAG), own silver,
-- gold and ops (dbt creates and replaces their tables).
grant usage on schema bronze, ref to streamflow_warehouse;
grant select, delete on all tables in schema bronze to streamflow_warehouse;
alter default privileges in schema bronze grant select, delete on tables to streamflow_warehouse;
grant select on all tables in schema ref to streamflow_warehouse;
alter default privileges in schema ref grant select on tables to streamflow_warehouse;

create schema if not exists ops;  -- V050 fills it (create schema if not exists there too)
alter schema silver owner to streamflow_warehouse;
alter schema gold owner to streamflow_warehouse;
alter schema ops owner to streamflow_warehouse;
-- Tables created in them before (a dbt run under the owner role) become the warehouse role's;
-- later migrations' tables there (V050's ops tables) stay the migrator's, with every privilege
-- granted to the warehouse role by the default privileges below.
do $$
declare
    obj record;
begin
    for obj in
        select c.oid::regclass as name, c.relkind
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('silver', 'gold', 'ops')
          and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and pg_get_userbyid(c.relowner) <> 'streamflow_warehouse'
    loop
        if obj.relkind = 'v' then
            execute format('alter view %s owner to streamflow_warehouse', obj.name);
        elsif obj.relkind = 'm' then
            execute format('alter materialized view %s owner to streamflow_warehouse', obj.name);
        else
            execute format('alter table %s owner to streamflow_warehouse', obj.name);
        end if;
    end loop;
end
$$;
alter default privileges in schema silver, gold, ops grant all on tables to streamflow_warehouse;
alter default privileges in schema silver, gold, ops grant all on sequences to streamflow_warehouse;
