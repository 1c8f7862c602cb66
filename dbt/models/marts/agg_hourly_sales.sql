{#- Sales per store and event hour. Incremental with late data handled: every hour touched by a
    newly loaded fact (however old its event time) is recomputed in full from the fact table. -#}
{{
    config(
        materialized='incremental',
        unique_key=['event_hour', 'store_id'],
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['event_hour', 'store_id'], 'unique': True}],
    )
}}

with facts as (
    select f.*
    from {{ ref('fct_transactions') }} as f
    {% if is_incremental() %}
    where f.event_hour in (
        select distinct event_hour from {{ ref('fct_transactions') }}
        where _source_ingested_at > {{ ingested_since('_source_ingested_at') }}
    )
    {% endif %}
)

select
    event_hour,
    store_id,
    max(merchant_id) as merchant_id,
    count(*) as txn_count,
    sum(amount) as amount_sum,
    avg(amount)::numeric(14, 2) as amount_avg,
    count(distinct customer_id) as distinct_customers,
    count(*) filter (where is_alert) as alert_count,
    count(*) filter (where is_confirmed_fraud) as confirmed_fraud_count,
    count(*) filter (where is_late) as late_txn_count,
    max(_source_ingested_at) as _source_ingested_at
from facts
group by event_hour, store_id
