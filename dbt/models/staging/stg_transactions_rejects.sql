{#- Every bronze transaction that did not make it into stg_transactions, with the reason:
    a failed validation rule, or `duplicate_transaction_id` (a replayed or re-sent record whose
    id is already in silver from an earlier landing). Nothing is dropped silently:
    count(bronze) = count(stg_transactions) + count(stg_transactions_rejects). -#}
{{
    config(
        materialized='incremental',
        unique_key=['kafka_topic', 'kafka_partition', 'kafka_offset'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['kafka_topic', 'kafka_partition', 'kafka_offset'], 'unique': True},
            {'columns': ['_ingested_at']},
        ],
    )
}}

select
    b.kafka_topic,
    b.kafka_partition,
    b.kafka_offset,
    b.transaction_id,
    b.customer_id,
    b.amount,
    b.currency::text as currency,
    b.event_time,
    coalesce({{ transaction_reject_reason('b') }}, 'duplicate_transaction_id') as reject_reason,
    b.payload::jsonb as payload,  -- bronze's json, as jsonb for whoever queries the rejects
    b.ingested_at as _ingested_at
from ({{ transactions_with_payload_fields(source('bronze', 'transactions')) }}) as b
left join {{ ref('stg_transactions') }} as s
    on s.transaction_id = b.transaction_id
where
    -- not the landing silver kept
    (s.transaction_id is null
        or (s.kafka_topic, s.kafka_partition, s.kafka_offset)
        <> (b.kafka_topic, b.kafka_partition, b.kafka_offset))
    -- invalid, or a repeat of an id silver holds (a valid row whose id is not in silver yet is
    -- still pending: it landed after stg_transactions ran and is judged next run)
    and ({{ transaction_reject_reason('b') }} is not null or s.transaction_id is not null)
{% if is_incremental() %}
    and b.ingested_at > {{ ingested_since() }}
{% endif %}
