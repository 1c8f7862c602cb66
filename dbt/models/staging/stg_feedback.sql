{#- Silver labels: one per transaction, the latest report wins (a chargeback after an analyst
    verdict overrides it). -#}
with ranked as (
    select
        b.*,
        row_number() over (
            partition by b.transaction_id
            order by b.reported_at desc, b.ingested_at desc, b.kafka_offset desc
        ) as report_rank
    from {{ source('bronze', 'feedback') }} as b
)

select
    transaction_id,
    customer_id,
    merchant_id,
    label,
    label = 'fraud' as is_fraud,
    source,
    reported_at,
    nullif(payload ->> 'note', '') as note,
    ingested_at as _ingested_at
from ranked
where report_rank = 1
