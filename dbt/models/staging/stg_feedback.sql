{#- Silver labels: one per transaction, the latest report wins (a chargeback after an analyst
    verdict overrides it). A label is a fact per (transaction, source): a repeat of it (the
    alert API's outbox re-publishing after a relay crash, a re-sent chargeback) or an analyst's
    changed verdict is another report of the same fact, so it replaces, never adds (ADR 0057). -#}
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
