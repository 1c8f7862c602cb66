-- Reference data the generator seeds (customers, cards, merchants, stores, products) so the
-- warehouse can join transactions to them.
create table ref.merchants (
    merchant_id  text primary key,
    name         text not null,
    category     text not null,
    risk_tier    text not null default 'normal',
    created_at   timestamptz not null default now()
);

create table ref.stores (
    store_id     text primary key,
    merchant_id  text not null references ref.merchants (merchant_id),
    city         text not null,
    state        char(2) not null,
    latitude     double precision not null,
    longitude    double precision not null,
    channel      text not null,
    created_at   timestamptz not null default now()
);

create table ref.customers (
    customer_id   text primary key,
    name          text not null,
    home_city     text not null,
    home_state    char(2) not null,
    home_latitude double precision not null,
    home_longitude double precision not null,
    spending_profile text not null,
    created_at    timestamptz not null default now()
);

create table ref.cards (
    card_id      text primary key,
    customer_id  text not null references ref.customers (customer_id),
    card_type    text not null,
    created_at   timestamptz not null default now()
);

create table ref.products (
    product_id   text primary key,
    name         text not null,
    category     text not null,
    price_min    numeric(14, 2) not null,
    price_max    numeric(14, 2) not null,
    created_at   timestamptz not null default now()
);
