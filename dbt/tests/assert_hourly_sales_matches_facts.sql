{{ config(tags=["gold"]) }}
-- The incremental hourly aggregate agrees with a full recomputation from the fact table
-- (late-arriving rows included).
with full_agg as (
    select event_hour, store_id, count(*) as txn_count, sum(amount) as amount_sum
    from {{ ref('fct_transactions') }}
    group by event_hour, store_id
)
select coalesce(f.event_hour, a.event_hour) as event_hour, coalesce(f.store_id, a.store_id) as store_id
from full_agg as f
full outer join {{ ref('agg_hourly_sales') }} as a
    on a.event_hour = f.event_hour and a.store_id = f.store_id
where f.txn_count is distinct from a.txn_count or f.amount_sum is distinct from a.amount_sum
