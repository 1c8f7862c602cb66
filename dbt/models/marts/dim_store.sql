{#- Store dimension (a merchant's physical or online point of sale). -#}
select
    s.store_id,
    s.merchant_id,
    m.name as merchant_name,
    m.category as merchant_category,
    s.city,
    s.state::text as state,
    s.latitude,
    s.longitude,
    s.channel
from {{ source('ref', 'stores') }} as s
inner join {{ ref('dim_merchant') }} as m on m.merchant_id = s.merchant_id
