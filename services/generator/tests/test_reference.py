import numpy as np

from streamflow.generator.geo import haversine_km, load_cities, offset_point
from streamflow.generator.reference import (
    MIN_STORES_PER_CITY,
    build_reference,
    card_id,
    product_for,
    store_id,
)


def test_cities_are_real_brazilian_places() -> None:
    cities = load_cities()
    assert len(cities) >= 40
    assert cities.names[0] == "São Paulo"
    # Brazil spans roughly 34S..6N, 74W..34W
    assert np.all((cities.lat > -34) & (cities.lat < 6))
    assert np.all((cities.lon > -74) & (cities.lon < -34))
    assert abs(cities.weight.sum() - 1) < 1e-9
    sp, rj = cities.names.index("São Paulo"), cities.names.index("Rio de Janeiro")
    assert 340 < cities.distance_km[sp, rj] < 380  # ~357 km, public fact


def test_offset_point_keeps_its_distance() -> None:
    lat, lon = offset_point(-23.55, -46.63, 400.0, 1.0)
    assert abs(float(haversine_km(-23.55, -46.63, lat, lon)) - 400.0) < 0.5


def test_reference_is_deterministic_per_seed() -> None:
    a, b, c = build_reference(5, 500), build_reference(5, 500), build_reference(6, 500)
    assert np.array_equal(a.cust_mu, b.cust_mu)
    assert np.array_equal(a.store_lat, b.store_lat)
    assert not np.array_equal(a.cust_mu, c.cust_mu)


def test_reference_shape() -> None:
    ref = build_reference(5, 3000)
    assert ref.n_customers == 3000
    for stores in ref.city_stores:
        assert len(stores) >= MIN_STORES_PER_CITY
    fav_city = ref.store_city[ref.cust_fav_stores]
    assert np.all(fav_city == ref.cust_city[:, None])  # favourite stores are near home
    assert not set(ref.blacklisted_merchants) & set(ref.legit_online_merchants)
    assert not set(ref.ring_merchants) & set(ref.legit_online_merchants)
    assert ref.merchant_online[ref.legit_online_merchants].all()
    # blocked cards are the last card of their customer and outside the active range
    for k in ref.blacklisted_card_indices():
        cust = ref.card_cust[k]
        assert k >= ref.cust_card_start[cust] + ref.cust_active_cards[cust]
    assert ref.card_blocked.mean() < 0.02
    assert card_id(ref, 0) == "K000000-1"
    assert store_id(ref, int(ref.merchant_web_store[ref.legit_online_merchants[0]])).endswith(
        "-WEB"
    )


def test_products_cover_the_amount() -> None:
    cents = np.array([50, 1_000, 123_456, 5_000_000])
    products = product_for(np.array([0, 0, 3, 3]), cents)
    assert list(products[:2]) == sorted(products[:2])
    assert products[2] // 24 == 3
