{{ config(tags=["gold"]) }}
-- Gold keeps exactly silver's transactions: the same set of ids and the same total amount.
with s as (select transaction_id, amount from {{ ref('stg_transactions') }}),
g as (select transaction_id, amount from {{ ref('fct_transactions') }}),
missing as (
    select 'missing_in_gold' as problem, s.transaction_id from s
    left join g on g.transaction_id = s.transaction_id where g.transaction_id is null
    union all
    select 'extra_in_gold', g.transaction_id from g
    left join s on s.transaction_id = g.transaction_id where s.transaction_id is null
),
sums as (
    select 'amount_sum_differs' as problem, null::text as transaction_id
    where (select coalesce(sum(amount), 0) from s) <> (select coalesce(sum(amount), 0) from g)
)
select * from missing
union all
select * from sums
