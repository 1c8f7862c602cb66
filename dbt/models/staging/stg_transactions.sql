{#- Silver transactions: typed, validated, deduplicated on transaction_id (first landing wins).
    Incremental on bronze ingestion time, so late-arriving events (old event_time, new ingestion)
    are picked up; rows that fail validation or repeat an id go to stg_transactions_rejects. -#}
{#- Append, not delete+insert: the NOT EXISTS below already keeps every id silver holds out of
    the batch (first landing wins for good), so there is never a row to replace, and the delete of
    a 1M-row batch's keys was pure cost (docs/adr/0061). -#}
{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='append',
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['_ingested_at']},
        ],
        post_hook=["analyze {{ this }}"],
    )
}}

-- read twice below, inlined both times (never materialised with its payload)
with landed as not materialized (
    select b.*
    from ({{ transactions_with_payload_fields(source('bronze', 'transactions')) }}) as b
    {% if is_incremental() %}
    where b.ingested_at > {{ ingested_since() }}
    {% endif %}
)

select
    b.transaction_id,
    b.event_time,
    b.customer_id,
    b.card_id,
    b.merchant_id,
    b.store_id,
    nullif(b.payload_product_id, '') as product_id,
    b.amount::numeric(14, 2) as amount,
    b.currency::text as currency,
    b.payload_payment_method as payment_method,
    b.payload_channel as channel,
    b.payload_latitude as latitude,
    b.payload_longitude as longitude,
    nullif(b.payload_device_id, '') as device_id,
    b.ingested_at - b.event_time > interval '1 hour' as is_late,
    b.kafka_topic,
    b.kafka_partition,
    b.kafka_offset,
    b.ingested_at as _ingested_at
from landed as b
where {{ transaction_reject_reason('b') }} is null
    -- first valid landing wins: no earlier valid landing of the id in this batch. An anti-join
    -- (hashed on the id) instead of row_number() over a 1M-row sort that spilled to disk.
    and not exists (
        select 1 from landed as e
        where e.transaction_id = b.transaction_id
            and (e.ingested_at, e.kafka_topic, e.kafka_partition, e.kafka_offset)
                < (b.ingested_at, b.kafka_topic, b.kafka_partition, b.kafka_offset)
            and {{ transaction_reject_reason('e') }} is null
    )
{% if is_incremental() %}
    -- ... and no landing already in silver (first landing wins for good)
    and not exists (select 1 from {{ this }} as t where t.transaction_id = b.transaction_id)
{% endif %}
