{#- Customer dimension, SCD type 2 from the snap_customers snapshot: one row per version.
    The first version is valid from the beginning of time so facts older than the first snapshot
    still find their customer; behaviour stats sit on the current version. -#}
with versions as (
    select
        s.*,
        row_number() over (partition by s.customer_id order by s.dbt_valid_from) as version_number
    from {{ ref('snap_customers') }} as s
)

select
    md5(v.customer_id || '|' || v.dbt_valid_from::text) as customer_sk,
    v.customer_id,
    v.name,
    v.home_city,
    v.home_state::text as home_state,
    v.home_latitude,
    v.home_longitude,
    v.spending_profile,
    v.version_number,
    case when v.version_number = 1 then timestamptz '1900-01-01 00:00:00+00'
        else v.dbt_valid_from end as valid_from,
    v.dbt_valid_to as valid_to,
    v.dbt_valid_to is null as is_current,
    case when v.dbt_valid_to is null then coalesce(st.txn_count, 0) end as txn_count,
    case when v.dbt_valid_to is null then coalesce(st.total_amount, 0) end as total_amount,
    case when v.dbt_valid_to is null then st.avg_amount end as avg_amount,
    case when v.dbt_valid_to is null then coalesce(st.alert_count, 0) end as alert_count,
    case when v.dbt_valid_to is null then coalesce(st.confirmed_fraud_count, 0) end
        as confirmed_fraud_count,
    case when v.dbt_valid_to is null then st.last_txn_at end as last_txn_at
from versions as v
left join {{ ref('int_customer_stats') }} as st on st.customer_id = v.customer_id
