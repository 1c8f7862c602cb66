"""Seed the reference tables (``ref.*``) in PostgreSQL idempotently (upsert on the ids)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from streamflow.generator.reference import (
    CATEGORIES,
    PROFILE_NAMES,
    Reference,
    card_id,
    customer_id,
    customer_name,
    merchant_id,
    merchant_name,
    product_bands,
    product_id,
    store_id,
)

_PRODUCT_BAND_NAMES = ("tiny", "small", "medium", "large", "premium")


def _product_name(category: int, band: int, bands: int) -> str:
    size = _PRODUCT_BAND_NAMES[band * len(_PRODUCT_BAND_NAMES) // bands]
    return f"{CATEGORIES[category].replace('_', ' ').title()} {size} #{band + 1}"


def _rows(ref: Reference) -> dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]:
    cities = ref.cities
    blacklisted = set(ref.blacklisted_merchants.tolist())
    merchants = [
        (
            merchant_id(m),
            merchant_name(m, CATEGORIES[int(ref.merchant_category[m])]),
            CATEGORIES[int(ref.merchant_category[m])],
            "blacklisted" if m in blacklisted else "normal",
        )
        for m in range(ref.n_merchants)
    ]
    stores = []
    for s in range(len(ref.store_merchant)):
        c = int(ref.store_city[s])
        online = c < 0
        stores.append(
            (
                store_id(ref, s),
                merchant_id(int(ref.store_merchant[s])),
                "online" if online else cities.names[c],
                "BR" if online else cities.states[c],
                0.0 if online else float(ref.store_lat[s]),
                0.0 if online else float(ref.store_lon[s]),
                "online" if online else "pos",
            )
        )
    customers = [
        (
            customer_id(i),
            customer_name(i),
            cities.names[int(ref.cust_city[i])],
            cities.states[int(ref.cust_city[i])],
            float(ref.cust_lat[i]),
            float(ref.cust_lon[i]),
            PROFILE_NAMES[int(ref.cust_profile[i])],
        )
        for i in range(ref.n_customers)
    ]
    cards = [
        (card_id(ref, k), customer_id(int(ref.card_cust[k])),
         "credit" if ref.card_credit[k] else "debit")
        for k in range(len(ref.card_cust))
    ]  # fmt: skip
    edges = product_bands()
    products = [
        (
            product_id(cat * (len(edges) - 1) + b),
            _product_name(cat, b, len(edges) - 1),
            CATEGORIES[cat],
            round(float(edges[b]), 2),
            round(float(edges[b + 1]), 2),
        )
        for cat in range(len(CATEGORIES))
        for b in range(len(edges) - 1)
    ]
    return {
        "merchants": (("merchant_id", "name", "category", "risk_tier"), merchants),
        "stores": (
            ("store_id", "merchant_id", "city", "state", "latitude", "longitude", "channel"),
            stores,
        ),
        "customers": (
            (
                "customer_id",
                "name",
                "home_city",
                "home_state",
                "home_latitude",
                "home_longitude",
                "spending_profile",
            ),
            customers,
        ),
        "cards": (("card_id", "customer_id", "card_type"), cards),
        "products": (("product_id", "name", "category", "price_min", "price_max"), products),
    }


def seed_reference(dsn: str, ref: Reference) -> dict[str, int]:
    """Upsert every reference row (parents first); returns rows written per table."""
    written: dict[str, int] = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, (columns, rows) in _rows(ref).items():
            key = columns[0]
            tmp = sql.Identifier(f"tmp_{table}")
            cur.execute(
                sql.SQL(
                    "create temp table {} (like ref.{} including defaults) on commit drop"
                ).format(tmp, sql.Identifier(table))
            )
            cols = sql.SQL(", ").join(map(sql.Identifier, columns))
            n = 0
            with cur.copy(sql.SQL("copy {} ({}) from stdin").format(tmp, cols)) as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            updates = sql.SQL(", ").join(
                sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns[1:]
            )
            cur.execute(
                sql.SQL(
                    "insert into ref.{t} ({cols}) select {cols} from {tmp} "
                    "on conflict ({key}) do update set {updates}"
                ).format(
                    t=sql.Identifier(table),
                    cols=cols,
                    tmp=tmp,
                    key=sql.Identifier(key),
                    updates=updates,
                )
            )
            written[table] = n
        conn.commit()
    return written
