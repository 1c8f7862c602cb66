{#- Silver transactions: typed, validated, deduplicated on transaction_id (first landing wins).
    Incremental on bronze ingestion time, so late-arriving events (old event_time, new ingestion)
    are picked up; rows that fail validation or repeat an id go to stg_transactions_rejects. -#}
{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['_ingested_at']},
            {'columns': ['event_time']},
        ],
    )
}}

with landed as (
    select
        b.*,
        {{ transaction_reject_reason('b') }} as reject_reason
    from {{ source('bronze', 'transactions') }} as b
    {% if is_incremental() %}
    where b.ingested_at > {{ ingested_since() }}
    {% endif %}
),

ranked as (
    select
        l.*,
        row_number() over (
            partition by l.transaction_id
            order by l.ingested_at, l.kafka_topic, l.kafka_partition, l.kafka_offset
        ) as landing_rank
    from landed as l
    where l.reject_reason is null
)

select
    r.transaction_id,
    r.event_time,
    r.customer_id,
    r.card_id,
    r.merchant_id,
    r.store_id,
    nullif(r.payload ->> 'product_id', '') as product_id,
    r.amount::numeric(14, 2) as amount,
    r.currency::text as currency,
    r.payload ->> 'payment_method' as payment_method,
    r.payload ->> 'channel' as channel,
    (r.payload ->> 'latitude')::double precision as latitude,
    (r.payload ->> 'longitude')::double precision as longitude,
    nullif(r.payload ->> 'device_id', '') as device_id,
    r.ingested_at - r.event_time > interval '1 hour' as is_late,
    r.kafka_topic,
    r.kafka_partition,
    r.kafka_offset,
    r.ingested_at as _ingested_at
from ranked as r
where r.landing_rank = 1
{% if is_incremental() %}
    and not exists (select 1 from {{ this }} as t where t.transaction_id = r.transaction_id)
{% endif %}
