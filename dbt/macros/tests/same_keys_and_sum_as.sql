{#- Generic test: the model holds exactly the same set of `column_name` values as `other`
    ('schema.table', named rather than ref'd so the test has one parent and runs right after the
    model in Airflow), and the same sum of `sum_column`. Fails with one row per discrepancy. -#}
{% test same_keys_and_sum_as(model, column_name, other, sum_column) %}
with m as (select {{ column_name }} as k, {{ sum_column }} as v from {{ model }}),
o as (select {{ column_name }} as k, {{ sum_column }} as v from {{ other }}),
diff as (
    select 'missing_in_model' as problem, o.k::text as key from o
    left join m on m.k = o.k where m.k is null
    union all
    select 'extra_in_model', m.k::text from m
    left join o on o.k = m.k where o.k is null
)
select * from diff
union all
select 'sum_differs', null
where (select coalesce(sum(v), 0) from m) <> (select coalesce(sum(v), 0) from o)
{% endtest %}
