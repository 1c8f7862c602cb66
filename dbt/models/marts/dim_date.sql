{#- Calendar dimension over the configured range (vars dim_date_start / dim_date_end). -#}
select
    d::date as date_day,
    extract(year from d)::int as year,
    extract(quarter from d)::int as quarter,
    extract(month from d)::int as month,
    to_char(d, 'YYYY-MM') as year_month,
    extract(day from d)::int as day_of_month,
    extract(isodow from d)::int as iso_day_of_week,
    to_char(d, 'FMDay') as day_name,
    extract(isodow from d) in (6, 7) as is_weekend
from generate_series(
    date '{{ var("dim_date_start") }}', date '{{ var("dim_date_end") }}', interval '1 day'
) as d
