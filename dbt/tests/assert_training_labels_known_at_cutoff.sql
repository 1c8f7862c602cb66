{#- Fails on leakage into gold.training_examples: a label reported after the row's cut-off, a
    fraud label with no fraud report at or before the cut-off in bronze, a transaction younger
    than the label maturity, or rows built with another cut-off than the one this run asks for
    (checked when `training_cutoff` is set). Rows carry their cut-off, so the test holds
    whatever the time of the test run. -#}
{{ config(tags=['training']) }}

with examples as (
    select * from {{ ref('training_examples') }}
)

select transaction_id, 'label reported after the cut-off' as problem
from examples
where label_reported_at > training_cutoff

union all

select e.transaction_id, 'fraud label not known at the cut-off'
from examples as e
where e.label = 1
    and not exists (
        select 1 from {{ source('bronze', 'feedback') }} as f
        where f.transaction_id = e.transaction_id
            and f.label = 'fraud'
            and f.reported_at <= e.training_cutoff
    )

union all

select transaction_id, 'transaction too young for the cut-off'
from examples
where event_time > training_cutoff - make_interval(days => label_maturity_days)

{% if var('training_cutoff', '') %}
union all

select transaction_id, 'built with another cut-off'
from examples
where training_cutoff <> {{ training_cutoff() }}
{% endif %}
