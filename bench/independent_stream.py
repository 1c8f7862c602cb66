"""An independent labelled card stream, to judge the learning loop on fraud it was not built for.

It follows the published transaction simulator of Le Borgne et al., *Reproducible Machine Learning
for Credit Card Fraud Detection - Practical Handbook* (ch. 3.2), re-implemented here from its
description, not from its code or data:
- customers at random places on a 100x100 grid, each with a mean amount U(5, 100) (sd half of it)
  and U(0, 4) payments a day (Poisson), spent at terminals within a radius of 5;
- payment times around noon (normal, sd 20,000 s), amounts normal (a negative draw is redrawn
  uniform in [0, 2 x mean]);
- fraud: (1) any amount above 220; (2) every day two terminals are compromised and every payment at
  them in the next 28 days is fraud; (3) every day three customers are compromised and a third of
  their payments in the next 14 days are fraud with five times the amount.
Nothing here is shaped like the generator's scenarios or the scorer's rules; the stream has no
card id (one card per customer), no device, location or channel. Columns: transaction_id,
event_time (UTC), customer_id, merchant_id (the terminal), amount, label, scenario.

    scripts/uv.sh run python -m bench.independent_stream OUT.parquet [--days 183 --customers 5000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = np.datetime64("2018-04-01T00:00:00", "s")
SCENARIOS = ("legit", "amount_over_220", "compromised_terminal", "compromised_card")


def simulate(
    days: int = 183, customers: int = 5_000, terminals: int = 10_000, seed: int = 0
) -> pa.Table:
    """The whole stream, sorted by event time."""
    rng = np.random.default_rng(seed)
    c_xy = rng.uniform(0, 100, (customers, 2))
    mean_amount = rng.uniform(5, 100, customers)
    per_day = rng.uniform(0, 4, customers)
    t_xy = rng.uniform(0, 100, (terminals, 2))

    cust, term, secs, amount = [], [], [], []
    for c in range(customers):
        near = np.flatnonzero(((t_xy - c_xy[c]) ** 2).sum(axis=1) < 25.0)
        if near.size == 0:
            continue
        counts = rng.poisson(per_day[c], days)
        n = int(counts.sum())
        if n == 0:
            continue
        day = np.repeat(np.arange(days), counts)
        t = rng.normal(43_200, 20_000, n)
        keep = (t > 0) & (t < 86_400)
        day, t = day[keep], t[keep]
        n = day.size
        a = rng.normal(mean_amount[c], mean_amount[c] / 2, n)
        neg = a < 0
        a[neg] = rng.uniform(0, 2 * mean_amount[c], int(neg.sum()))
        cust.append(np.full(n, c))
        term.append(rng.choice(near, n))
        secs.append(day * 86_400 + t.astype(np.int64))
        amount.append(a)
    customer = np.concatenate(cust)
    terminal = np.concatenate(term)
    second = np.concatenate(secs)
    amt = np.round(np.concatenate(amount), 2)
    order = np.argsort(second, kind="stable")
    customer, terminal, second, amt = customer[order], terminal[order], second[order], amt[order]
    day = second // 86_400

    scenario = np.zeros(customer.size, dtype=np.int8)
    scenario[amt > 220] = 1
    for d in range(days):
        for t in rng.choice(terminals, 2, replace=False):
            hit = (terminal == t) & (day >= d) & (day < d + 28) & (scenario == 0)
            scenario[hit] = 2
        for c in rng.choice(customers, 3, replace=False):
            idx = np.flatnonzero((customer == c) & (day >= d) & (day < d + 14) & (scenario == 0))
            if idx.size:
                chosen = rng.choice(idx, idx.size // 3, replace=False)
                amt[chosen] = np.round(amt[chosen] * 5, 2)
                scenario[chosen] = 3
    # an amount of 0.00 breaks the transaction contract: the replay rejects it, as the stream would
    return pa.table(
        {
            "transaction_id": pa.array([f"X{i}" for i in range(customer.size)]),
            "event_time": pa.array(START + second, type=pa.timestamp("s", tz="UTC")),
            "customer_id": pa.array([f"K{c}" for c in customer.tolist()]),
            "merchant_id": pa.array([f"TERM{t}" for t in terminal.tolist()]),
            "amount": pa.array(amt),
            "label": pa.array((scenario > 0).astype(np.int8)),
            "scenario": pa.array([SCENARIOS[s] for s in scenario.tolist()]),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.independent_stream", description=__doc__)
    parser.add_argument("out", type=Path, help="Parquet file to write")
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--terminals", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    table = simulate(args.days, args.customers, args.terminals, args.seed)
    pq.write_table(table, args.out)
    labels = np.asarray(table.column("label"))
    print(f"{table.num_rows} payments, {labels.mean():.4f} fraud -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
