"""Test data of the lab's tests: small synthetic labelled files."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SAO_PAULO = (-23.55, -46.63)
MANAUS = (-3.12, -60.02)


def synthetic_rows(seed: int = 1, customers: int = 40, days: int = 12) -> list[dict[str, Any]]:
    """Legit habits per customer plus four injected fraud scenarios, in random order."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    seq = 0

    def add(cust: int, when: datetime, amount: float, label: int, scenario: str, **kw: Any) -> None:
        nonlocal seq
        seq += 1
        lat, lon = kw.pop("where", SAO_PAULO)
        rows.append(
            {
                "transaction_id": f"t{seq:07d}",
                "event_time": when,
                "customer_id": f"C{cust:04d}",
                "card_id": kw.pop("card", f"K{cust:04d}-1"),
                "merchant_id": kw.pop("merchant", f"M{rng.randrange(30):03d}"),
                "amount": f"{max(amount, 1.0):.2f}",
                "channel": kw.pop("channel", "pos"),
                "latitude": lat + rng.uniform(-0.02, 0.02),
                "longitude": lon + rng.uniform(-0.02, 0.02),
                "device_id": kw.pop("device", None),
                "label": label,
                "scenario": scenario,
            }
        )

    for cust in range(customers):
        mean = rng.uniform(40, 400)
        hour = rng.uniform(9, 18)
        for day in range(days):
            for _ in range(rng.randint(1, 4)):
                when = T0 + timedelta(days=day, hours=rng.gauss(hour, 1.0) - 12)
                add(cust, when, rng.lognormvariate(0, 0.3) * mean, 0, "legit")
        late = T0 + timedelta(days=days - 2, hours=hour - 12 + 0.5)
        kind = cust % 4
        if kind == 0:
            add(cust, late, mean * 9, 1, "high_value")
        elif kind == 1:
            for i in range(8):
                add(cust, late + timedelta(seconds=30 * i), 5.0, 1, "velocity", channel="online")
        elif kind == 2:
            add(cust, late + timedelta(minutes=20), mean * 2, 1, "travel", where=MANAUS)
        else:
            add(cust, late, mean, 1, "blacklist", card="K-STOLEN-1")
    rng.shuffle(rows)
    return rows


def write_rows(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as Parquet (``.parquet``) or CSV (anything else)."""
    table = pa.Table.from_pylist(rows)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        table = table.set_column(
            table.schema.get_field_index("event_time"),
            "event_time",
            pa.array([r["event_time"].isoformat() for r in rows]),
        )
        pacsv.write_csv(table, path)
    return path
