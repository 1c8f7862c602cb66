{#- Helpers shared by the incremental models. -#}

{#- The bronze ingestion time from which an incremental run re-reads: the target's high-water mark
    minus the lookback window (idempotent: already loaded rows are skipped or rewritten unchanged). -#}
{% macro ingested_since(column='_ingested_at', relation=none) -%}
    {%- set rel = relation if relation is not none else this -%}
    coalesce((select max({{ column }}) from {{ rel }}), '-infinity'::timestamptz)
        - interval '{{ var("incremental_lookback") }}'
{%- endmacro %}

{#- The reason a bronze transaction fails validation, or null when it is valid. Shared by
    stg_transactions (keeps valid rows) and stg_transactions_rejects (keeps the others).
    The rules reading policy_* vars are the validation policy (streamflow.events.policy, mirrored
    as generated vars, docs/adr/0059), with its reason codes: schema versions N and N-1 of the
    contract, amount bounds, event time no earlier than the policy's and no further ahead than
    its skew of the broker's append time (the Kafka timestamp, LogAppendTime on every topic; the
    ingestion time for a row without one), so the verdict does not depend on ingestor lag.
    Its rows come from transactions_with_payload_fields (the payload's fields as columns). -#}
{% macro transaction_reject_reason(alias='b') -%}
    {%- set versions = var('policy_accepted_schema_versions')['Transaction'] -%}
    case
        when {{ alias }}.schema_version not in ({{ versions | join(', ') }})
            then 'unsupported_schema_version'
        when {{ alias }}.amount is null or {{ alias }}.event_time is null then 'unreadable_field'
        when {{ alias }}.amount < {{ var('policy_amount_min') }} then 'amount_not_positive'
        when {{ alias }}.amount > {{ var('policy_amount_max') }} then 'amount_too_large'
        when {{ alias }}.currency !~ '^[A-Z]{3}$' then 'bad_currency'
        when {{ alias }}.event_time > coalesce({{ alias }}.kafka_timestamp, {{ alias }}.ingested_at)
                + interval '{{ var("policy_max_future_skew") }}'
            then 'event_time_in_future'
        when {{ alias }}.event_time < timestamptz '{{ var("policy_earliest_event_time") }}'
            then 'event_time_too_old'
        when btrim({{ alias }}.transaction_id) = '' or btrim({{ alias }}.customer_id) = ''
            or btrim({{ alias }}.card_id) = '' or btrim({{ alias }}.merchant_id) = ''
            or btrim({{ alias }}.store_id) = '' then 'missing_identifier'
        when {{ alias }}.payload_transaction_id is distinct from {{ alias }}.transaction_id
            then 'payload_mismatch'
        when coalesce({{ alias }}.payload_channel, '') = ''
            or coalesce({{ alias }}.payload_payment_method, '') = '' then 'missing_payload_field'
    end
{%- endmacro %}

{#- bronze.transactions with the payload fields dbt reads as columns. bronze keeps each value as
    json, its text as received (V053, docs/adr/0125), and since V054 (docs/adr/0134) no typed
    column but transaction_id: one parse per row here gives the typed fields (customer_id, card_id,
    merchant_id, store_id, amount, currency, event_time) and the other fields as `payload_<field>`.
    Keys missing from a payload read as null, as `->>` does. A contract change that renames a
    field (an upgrade_previous that is not additive) must be mirrored here. -#}
{% macro transactions_with_payload_fields(relation) -%}
    select
        t.*,
        p.customer_id,
        p.card_id,
        p.merchant_id,
        p.store_id,
        {#- Cast only a spelling PostgreSQL reads (the contract's parser accepts a few more, e.g.
            `1_000.00` or a `_` between date and time): anything else is null, which
            transaction_reject_reason calls `unreadable_field`, instead of failing the run. #}
        case when p.amount ~ '^\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?\s*$'
            then p.amount::numeric end as amount,
        {#- the contract's default for a record without one (its only non-null default) #}
        coalesce(p.currency, '{{ var("transaction_default_currency") }}') as currency,
        {#- PostgreSQL refuses an offset of more than 15 hours; the contract takes up to 23:59 #}
        case when p.event_time ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)$'
            then p.event_time::timestamptz end as event_time,
        p.transaction_id as payload_transaction_id,
        p.product_id as payload_product_id,
        p.payment_method as payload_payment_method,
        p.channel as payload_channel,
        p.latitude as payload_latitude,
        p.longitude as payload_longitude,
        p.device_id as payload_device_id
    from {{ relation }} as t
    cross join lateral json_to_record(t.payload) as p(
        transaction_id text, customer_id text, card_id text, merchant_id text, store_id text,
        amount text, currency text, event_time text,
        product_id text, payment_method text, channel text,
        latitude double precision, longitude double precision, device_id text
    )
{%- endmacro %}

{#- Make a model's unique key an index (speeds the delete+insert merge and enforces the key). -#}
{% macro unique_index(columns) -%}
    create unique index if not exists {{ this.identifier }}__{{ columns | join('_') }}__uidx
        on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}

{#- Whether scoring `a` of a transaction beats scoring `b` of the same id (stg_scored_transactions):
    highest rules version, then the latest scored_at, then the first landing. -#}
{% macro scored_beats(a, b) -%}
    {{ a }}.transaction_id = {{ b }}.transaction_id
    and (
        {{ a }}.rules_version > {{ b }}.rules_version
        or ({{ a }}.rules_version = {{ b }}.rules_version and {{ a }}.scored_at > {{ b }}.scored_at)
        or ({{ a }}.rules_version = {{ b }}.rules_version and {{ a }}.scored_at = {{ b }}.scored_at
            and ({{ a }}._ingested_at, {{ a }}.kafka_topic, {{ a }}.kafka_partition, {{ a }}.kafka_offset)
                < ({{ b }}._ingested_at, {{ b }}.kafka_topic, {{ b }}.kafka_partition, {{ b }}.kafka_offset))
    )
{%- endmacro %}
