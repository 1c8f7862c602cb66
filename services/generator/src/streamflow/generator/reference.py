"""Reference data built from the seed: customers, cards, merchants, stores and products.

Everything is held as numpy arrays (index = entity number) so that 100,000 customers stay small
and the simulation can draw from them in vectorised batches. Ids are formatted from the indices
(``C000042``, ``K000042-1``, ``M00042``, ``S00042-01`` / ``S00042-WEB``, ``P0042``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from streamflow.generator.geo import Cities, load_cities

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PHYSICAL_CATEGORIES = (
    "grocery",
    "restaurant",
    "pharmacy",
    "fuel",
    "fashion",
    "electronics",
    "home",
    "beauty",
)
ONLINE_CATEGORIES = ("marketplace", "digital_goods", "electronics", "fashion", "travel")
CATEGORIES = tuple(dict.fromkeys(PHYSICAL_CATEGORIES + ONLINE_CATEGORIES))

# Spending profiles: (name, share of customers, median amount BRL, sigma range, online share range).
# Sigmas stay <= 0.38 so a legit amount above 3x the customer's own mean (FR-001) is ~0.1%.
PROFILES = (
    ("budget", 0.35, 35.0, (0.28, 0.36), (0.05, 0.15)),
    ("standard", 0.40, 85.0, (0.28, 0.37), (0.08, 0.25)),
    ("affluent", 0.18, 220.0, (0.30, 0.38), (0.10, 0.35)),
    ("premium", 0.07, 650.0, (0.30, 0.38), (0.10, 0.40)),
)
PROFILE_NAMES = tuple(p[0] for p in PROFILES)

PRODUCTS_PER_CATEGORY = 24
PRODUCT_PRICE_MIN = 0.50
PRODUCT_PRICE_MAX = 50_000.0
"""Each category's products have contiguous, log-spaced price bands covering this range."""

FAVOURITE_STORES = 6
FAVOURITE_ONLINE = 2
MIN_STORES_PER_CITY = 8
BLACKLISTED_MERCHANTS = 3
RING_MERCHANTS = 4
FENCE_MERCHANTS = 12
"""Online merchants where the cash-out scenario spends a stolen card (only when it is on)."""
FENCE_CATEGORIES = ("electronics", "digital_goods", "marketplace")
BLOCKED_CARD_SHARE = 0.01
"""Share of multi-card customers whose extra card was reported stolen (and blacklisted)."""
_NAME_A = ("Casa", "Mercado", "Loja", "Grupo", "Rede", "Super", "Empório", "Ponto", "Mundo", "Top")
_NAME_B = (
    "Azul",
    "Central",
    "Brasil",
    "Norte",
    "Sul",
    "Paulista",
    "Carioca",
    "Nova",
    "Real",
    "Sol",
)
_FIRST = ("Ana", "João", "Maria", "Pedro", "Lucas", "Julia", "Marcos", "Paula", "Rafael", "Bruna")
_LAST = ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Rodrigues", "Alves")


@dataclass(frozen=True, slots=True)
class Reference:
    """All reference entities of one seed (see module docstring for id formats)."""

    cities: Cities
    # customers
    cust_city: IntArray
    cust_lat: FloatArray
    cust_lon: FloatArray
    cust_profile: IntArray
    cust_mu: FloatArray
    cust_sigma: FloatArray
    cust_online: FloatArray
    cust_win_start: FloatArray
    """Local hour the customer's active window starts (BRT)."""
    cust_win_len: FloatArray
    cust_activity: FloatArray
    cust_card_start: IntArray
    cust_active_cards: IntArray
    cust_devices: IntArray
    cust_fav_stores: IntArray
    """Shape (customers, FAVOURITE_STORES): physical stores in the home city."""
    cust_fav_online: IntArray
    """Shape (customers, FAVOURITE_ONLINE): online merchants of the legit pool."""
    # cards
    card_cust: IntArray
    card_index: IntArray
    """1-based number of the card within its customer (the id suffix)."""
    card_credit: BoolArray
    card_blocked: BoolArray
    # merchants
    merchant_category: IntArray
    merchant_online: BoolArray
    merchant_web_store: IntArray
    """Store index of an online merchant's web store (-1 for physical merchants)."""
    legit_online_merchants: IntArray
    blacklisted_merchants: IntArray
    ring_merchants: IntArray
    fence_merchants: IntArray
    """Online merchants of the cash-out scenario; empty unless built with ``fence_merchants``."""
    # stores
    store_merchant: IntArray
    store_number: IntArray
    """1-based number of the store within its merchant; 0 for the web store."""
    store_city: IntArray
    store_lat: FloatArray
    store_lon: FloatArray
    city_stores: tuple[IntArray, ...]
    """Physical stores of each city."""
    weak_stores: IntArray
    """Physical stores prone to terminal compromise (the compromised-terminal scenario)."""

    @property
    def n_customers(self) -> int:
        return len(self.cust_city)

    @property
    def n_merchants(self) -> int:
        return len(self.merchant_category)

    def mean_amount(self, cust: IntArray | int) -> FloatArray:
        """Each customer's expected amount (log-normal mean), the baseline of FR-001."""
        return np.asarray(np.exp(self.cust_mu[cust] + self.cust_sigma[cust] ** 2 / 2))

    def blacklisted_card_indices(self) -> IntArray:
        return np.flatnonzero(self.card_blocked)


def customer_id(i: int) -> str:
    return f"C{i:06d}"


def card_id(ref: Reference, k: int) -> str:
    return f"K{int(ref.card_cust[k]):06d}-{int(ref.card_index[k])}"


def merchant_id(m: int) -> str:
    return f"M{m:05d}"


def store_id(ref: Reference, s: int) -> str:
    number = int(ref.store_number[s])
    suffix = "WEB" if number == 0 else f"{number:02d}"
    return f"S{int(ref.store_merchant[s]):05d}-{suffix}"


def product_id(p: int) -> str:
    return f"P{p:04d}"


_BANDS = np.geomspace(PRODUCT_PRICE_MIN, PRODUCT_PRICE_MAX, PRODUCTS_PER_CATEGORY + 1)


def product_bands() -> FloatArray:
    """The price-band edges shared by every category (PRODUCTS_PER_CATEGORY + 1 values)."""
    return _BANDS.copy()


def product_for(category: IntArray, amount_cents: IntArray) -> IntArray:
    """The product of ``category`` whose price band contains the amount."""
    band = np.searchsorted(_BANDS, amount_cents / 100.0, side="right") - 1
    band = np.clip(band, 0, PRODUCTS_PER_CATEGORY - 1)
    return np.asarray(category * PRODUCTS_PER_CATEGORY + band, dtype=np.int64)


def customer_name(i: int) -> str:
    return f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // len(_FIRST)) % len(_LAST)]}"


def merchant_name(m: int, category: str) -> str:
    a = _NAME_A[m % len(_NAME_A)]
    b = _NAME_B[(m // len(_NAME_A)) % len(_NAME_B)]
    return f"{a} {b} {category.replace('_', ' ').title()} {m}"


def build_reference(  # noqa: PLR0915 - one linear recipe; splitting it would hide the order of draws
    seed: int, n_customers: int, n_merchants: int | None = None, *, fence_merchants: int = 0
) -> Reference:
    """Build every reference entity deterministically from ``seed``.

    ``fence_merchants`` > 0 appends that many online merchants for the cash-out scenario after
    every other entity, from a random stream of their own, so every other id and draw is the
    same as without them.
    """
    rng = np.random.default_rng([seed, 1])
    cities = load_cities()
    n_cities = len(cities)
    n_merchants = n_merchants or max(80, n_customers // 20)

    # --- merchants and stores
    n_online = max(BLACKLISTED_MERCHANTS + RING_MERCHANTS + 8, int(n_merchants * 0.15))
    n_physical = max(n_merchants - n_online, 10)
    phys_cat = rng.integers(0, len(PHYSICAL_CATEGORIES), n_physical)
    online_cat_names = rng.choice(ONLINE_CATEGORIES, n_online)
    online_cat = np.array([CATEGORIES.index(str(c)) for c in online_cat_names], dtype=np.int64)
    home_city = rng.choice(n_cities, n_physical, p=cities.weight)
    store_merchant: list[int] = []
    store_city: list[int] = []
    store_number: list[int] = []
    for m in range(n_physical):
        chain = rng.random() < 0.1
        cities_m = [int(home_city[m])] * int(rng.integers(1, 4))
        if chain:
            cities_m += list(rng.choice(n_cities, int(rng.integers(4, 16)), p=cities.weight))
        for k, c in enumerate(cities_m, start=1):
            store_merchant.append(m)
            store_city.append(int(c))
            store_number.append(k)
    categories = list(phys_cat)
    counts = np.bincount(np.array(store_city), minlength=n_cities)
    for c in range(n_cities):  # every city gets enough stores to shop at
        for _ in range(max(0, MIN_STORES_PER_CITY - int(counts[c]))):
            store_merchant.append(len(categories))
            categories.append(int(rng.integers(0, len(PHYSICAL_CATEGORIES))))
            store_city.append(c)
            store_number.append(1)
    n_physical = len(categories)
    online_ids = np.arange(n_physical, n_physical + n_online)
    web_store = np.full(n_physical + n_online, -1, dtype=np.int64)
    for online_m in online_ids.tolist():
        web_store[online_m] = len(store_merchant)
        store_merchant.append(online_m)
        store_city.append(-1)
        store_number.append(0)
    merchant_category = np.concatenate([np.array(categories, dtype=np.int64), online_cat])
    merchant_online = np.zeros(n_physical + n_online, dtype=bool)
    merchant_online[online_ids] = True
    digital = online_ids[online_cat == CATEGORIES.index("digital_goods")]
    shady = rng.permutation(online_ids)
    blacklisted = np.sort(
        np.concatenate([digital[:BLACKLISTED_MERCHANTS], shady])[:BLACKLISTED_MERCHANTS]
    )
    ring = np.array([m for m in shady if m not in set(blacklisted)][:RING_MERCHANTS])
    legit_online = np.array(
        [m for m in online_ids if m not in set(blacklisted) and m not in set(ring)], dtype=np.int64
    )

    s_city = np.array(store_city, dtype=np.int64)
    s_lat = np.zeros(len(s_city))
    s_lon = np.zeros(len(s_city))
    phys = s_city >= 0
    s_lat[phys] = cities.lat[s_city[phys]] + rng.normal(0, 0.035, phys.sum())
    s_lon[phys] = cities.lon[s_city[phys]] + rng.normal(0, 0.035, phys.sum())
    city_stores = tuple(np.flatnonzero(s_city == c) for c in range(n_cities))
    phys_stores = np.flatnonzero(phys)
    weak = np.sort(rng.choice(phys_stores, max(5, len(phys_stores) // 50), replace=False))

    # --- customers
    c_city = rng.choice(n_cities, n_customers, p=cities.weight)
    c_lat = cities.lat[c_city] + rng.normal(0, 0.04, n_customers)
    c_lon = cities.lon[c_city] + rng.normal(0, 0.04, n_customers)
    shares = np.array([p[1] for p in PROFILES])
    c_prof = rng.choice(len(PROFILES), n_customers, p=shares / shares.sum())
    medians = np.array([p[2] for p in PROFILES])[c_prof]
    sig_lo = np.array([p[3][0] for p in PROFILES])[c_prof]
    sig_hi = np.array([p[3][1] for p in PROFILES])[c_prof]
    on_lo = np.array([p[4][0] for p in PROFILES])[c_prof]
    on_hi = np.array([p[4][1] for p in PROFILES])[c_prof]
    c_mu = np.log(medians * rng.uniform(0.8, 1.25, n_customers))
    c_sigma = rng.uniform(sig_lo, sig_hi)
    c_online = rng.uniform(on_lo, on_hi)
    win_start = rng.uniform(6.0, 10.0, n_customers)
    win_len = np.minimum(rng.uniform(9.0, 13.0, n_customers), 20.9 - win_start)
    activity = rng.gamma(2.0, 1.0, n_customers)
    n_cards = rng.choice(3, n_customers, p=[0.55, 0.35, 0.10]) + 1
    card_start = np.concatenate([[0], np.cumsum(n_cards)[:-1]]).astype(np.int64)
    blocked_cust = (n_cards >= 2) & (rng.random(n_customers) < BLOCKED_CARD_SHARE)
    active_cards = n_cards - blocked_cust.astype(np.int64)
    card_cust = np.repeat(np.arange(n_customers), n_cards)
    card_index = np.arange(len(card_cust)) - np.repeat(card_start, n_cards) + 1
    card_blocked = np.zeros(len(card_cust), dtype=bool)
    card_blocked[(card_start + n_cards - 1)[blocked_cust]] = True
    card_credit = rng.random(len(card_cust)) < 0.65
    devices = rng.integers(1, 3, n_customers)
    fav = np.empty((n_customers, FAVOURITE_STORES), dtype=np.int64)
    for c in range(n_cities):
        members = np.flatnonzero(c_city == c)
        pool = city_stores[c]
        fav[members] = pool[rng.integers(0, len(pool), (len(members), FAVOURITE_STORES))]
    fav_online = legit_online[rng.integers(0, len(legit_online), (n_customers, FAVOURITE_ONLINE))]

    ref = Reference(
        cities=cities,
        cust_city=c_city.astype(np.int64),
        cust_lat=c_lat,
        cust_lon=c_lon,
        cust_profile=c_prof.astype(np.int64),
        cust_mu=c_mu,
        cust_sigma=c_sigma,
        cust_online=c_online,
        cust_win_start=win_start,
        cust_win_len=win_len,
        cust_activity=activity,
        cust_card_start=card_start,
        cust_active_cards=active_cards.astype(np.int64),
        cust_devices=devices.astype(np.int64),
        cust_fav_stores=fav,
        cust_fav_online=fav_online.astype(np.int64),
        card_cust=card_cust.astype(np.int64),
        card_index=card_index.astype(np.int64),
        card_credit=card_credit,
        card_blocked=card_blocked,
        merchant_category=merchant_category,
        merchant_online=merchant_online,
        merchant_web_store=web_store,
        legit_online_merchants=legit_online,
        blacklisted_merchants=blacklisted.astype(np.int64),
        ring_merchants=ring.astype(np.int64),
        fence_merchants=np.zeros(0, dtype=np.int64),
        store_merchant=np.array(store_merchant, dtype=np.int64),
        store_number=np.array(store_number, dtype=np.int64),
        store_city=s_city,
        store_lat=s_lat,
        store_lon=s_lon,
        city_stores=city_stores,
        weak_stores=weak.astype(np.int64),
    )
    return _with_fence_merchants(ref, seed, fence_merchants) if fence_merchants > 0 else ref


def _with_fence_merchants(ref: Reference, seed: int, n: int) -> Reference:
    """``ref`` plus ``n`` online merchants (with web stores) appended at the end of the ids.

    Appending keeps every existing merchant and store index (and so every id) unchanged; the
    categories come from their own stream ``[seed, 4]``, not the reference's.
    """
    rng = np.random.default_rng([seed, 4])
    first = ref.n_merchants
    ids = np.arange(first, first + n, dtype=np.int64)
    names = rng.choice(FENCE_CATEGORIES, n)
    category = np.array([CATEGORIES.index(str(c)) for c in names], dtype=np.int64)
    web = np.arange(len(ref.store_merchant), len(ref.store_merchant) + n, dtype=np.int64)
    zeros = np.zeros(n)
    return replace(
        ref,
        merchant_category=np.concatenate([ref.merchant_category, category]),
        merchant_online=np.concatenate([ref.merchant_online, np.ones(n, dtype=bool)]),
        merchant_web_store=np.concatenate([ref.merchant_web_store, web]),
        fence_merchants=ids,
        store_merchant=np.concatenate([ref.store_merchant, ids]),
        store_number=np.concatenate([ref.store_number, np.zeros(n, dtype=np.int64)]),
        store_city=np.concatenate([ref.store_city, np.full(n, -1, dtype=np.int64)]),
        store_lat=np.concatenate([ref.store_lat, zeros]),
        store_lon=np.concatenate([ref.store_lon, zeros]),
    )
