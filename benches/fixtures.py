"""Side by side: Toron's synthetic data sets vs mimesis and Faker, 8-field person records.

    .venv/bin/python benches/fixtures.py                    # 200 000 rows
    .venv/bin/python benches/fixtures.py --rows 20000 --peer-rows 5000

Fields: name, email, phone, address, company, birth date, IBAN, card (the customers table of
`examples/datasets/customers.toml`, built here as a dict). Measured, rows/s: (a) written to a CSV file and
to a JSON Lines file (Toron: `Dataset.write`; peers: their providers with a fixed seed, written with
`csv.writer` / `json.dumps` per line), (b) returned to Python as a list of dicts (`Dataset.rows`; peers build
the dicts). Toron's figure is the best of 3, mimesis' the best of `--peer-repeat` (default 3: the ratio is
best against best, the machine's noise is large), Faker's one run. Peers run on `--peer-rows` rows (default
20 000: Faker takes minutes for 200 000); rows/s is a rate, so the ratio stays comparable. Performance is never asserted.
mimesis has no IBAN provider: its IBAN is a German IBAN built from mimesis' seeded random digits with its
mod-97 check digits computed in Python (a few integer operations per row).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import toron

FIELDS = ["name", "email", "phone", "address", "company", "birth_date", "iban", "card"]


def schema(rows: int) -> dict[str, Any]:
    return {
        "version": 1,
        "table": [
            {
                "name": "people",
                "rows": rows,
                "locale": "en_US",
                "field": [
                    {"name": "name", "kind": "name"},
                    {"name": "email", "kind": "email", "from": ["name"]},
                    {"name": "phone", "kind": "phone"},
                    {"name": "address", "kind": "address"},
                    {"name": "company", "kind": "company"},
                    {"name": "birth_date", "kind": "date", "min": "1940-01-01", "max": "2006-12-31"},
                    {"name": "iban", "kind": "iban"},
                    {"name": "card", "kind": "card"},
                ],
            }
        ],
    }


def mimesis_records(n: int, seed: int) -> Iterator[dict[str, str]]:
    from mimesis import Address, Datetime, Finance, Payment, Person
    from mimesis.locales import Locale

    person, address = Person(Locale.EN, seed=seed), Address(Locale.EN, seed=seed)
    finance, payment, dt = Finance(Locale.EN, seed=seed), Payment(seed=seed), Datetime(Locale.EN, seed=seed)
    rnd = person.random
    for _ in range(n):
        bban = rnd.randint(0, 10**18 - 1)
        check = 98 - (bban * 1_000_000 + 131400) % 97  # "DE00" rearranged: D=13, E=14, 00
        yield {
            "name": person.full_name(),
            "email": person.email(),
            "phone": person.phone_number(),
            "address": f"{address.address()}, {address.city()}, {address.state(abbr=True)} {address.zip_code()}",
            "company": finance.company(),
            "birth_date": dt.date(1940, 2006).isoformat(),
            "iban": f"DE{check:02d}{bban:018d}",
            "card": payment.credit_card_number().replace(" ", ""),
        }


def faker_records(n: int, seed: int) -> Iterator[dict[str, str]]:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    lo, hi = datetime.date(1940, 1, 1), datetime.date(2006, 12, 31)
    for _ in range(n):
        yield {
            "name": fake.name(),
            "email": fake.email(),
            "phone": fake.phone_number(),
            "address": fake.address().replace("\n", ", "),
            "company": fake.company(),
            "birth_date": fake.date_between_dates(lo, hi).isoformat(),
            "iban": fake.iban(),
            "card": fake.credit_card_number(),
        }


def peer_csv(records: Iterator[dict[str, str]], path: str) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for r in records:
            w.writerow(r.values())


def peer_jsonl(records: Iterator[dict[str, str]], path: str) -> None:
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


Records = Callable[[int, int], Iterator[dict[str, str]]]


def peer_csv_of(gen: Records, n: int, seed: int, path: str) -> None:
    peer_csv(gen(n, seed), path)


def peer_jsonl_of(gen: Records, n: int, seed: int, path: str) -> None:
    peer_jsonl(gen(n, seed), path)


def peer_dicts_of(gen: Records, n: int, seed: int) -> None:
    assert len(list(gen(n, seed))) == n


CPU: dict[str, float] = {}  # CPU time of the process during the best run, by label (every thread)


def best(f: Callable[[], object], repeat: int, label: str = "") -> float:
    t = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < t:
            t, CPU[label] = wall, cpu
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000, help="rows for Toron (default 200 000)")
    ap.add_argument("--peer-rows", type=int, default=20_000, help="rows for each peer (default 20 000)")
    ap.add_argument(
        "--peer-repeat", type=int, default=3, help="runs of mimesis, best kept (default 3; Faker: once)"
    )
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    n, pn, seed = args.rows, min(args.rows, args.peer_rows), args.seed
    ds = toron.Dataset.from_dict(schema(n))
    print(
        f"== 8-field person records: Toron {n:,} rows (best of 3), peers {pn:,} rows (mimesis best of "
        f"{args.peer_repeat}, Faker once); seed {seed}; "
        f"load average {os.getloadavg()[0]:.1f} (other builders share this machine)"
    )
    print(f"   toron row: {toron.Dataset.from_dict(schema(1)).rows('people', seed)[0]}")
    print(f"   mimesis row: {next(mimesis_records(1, seed))}")
    print(f"   faker row: {next(faker_records(1, seed))}")
    rates: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "jsonl"):
            out = os.path.join(tmp, f"toron-{fmt}")
            rates[("toron", fmt)] = n / best(lambda fmt=fmt, out=out: ds.write(out, seed, fmt), 3, fmt)  # type: ignore[misc]
        rates[("toron", "dicts")] = n / best(lambda: ds.rows("people", seed), 3, "dicts")
        for name, gen, repeat in (
            ("mimesis", mimesis_records, args.peer_repeat),
            ("faker", faker_records, 1),
        ):
            path = os.path.join(tmp, f"{name}.out")
            runs: dict[str, Callable[[], object]] = {
                "csv": functools.partial(peer_csv_of, gen, pn, seed, path),
                "jsonl": functools.partial(peer_jsonl_of, gen, pn, seed, path),
                "dicts": functools.partial(peer_dicts_of, gen, pn, seed),
            }
            for what, run in runs.items():
                rates[(name, what)] = pn / best(run, repeat)
    print(f"\n{'rows/s':10} {'toron':>12} {'mimesis':>12} {'faker':>12} {'vs mimesis':>11} {'vs faker':>9}")
    labels = {"csv": "CSV file", "jsonl": "JSONL file", "dicts": "dicts"}
    for what in ("csv", "jsonl", "dicts"):
        t, m, f = rates[("toron", what)], rates[("mimesis", what)], rates[("faker", what)]
        print(f"{labels[what]:10} {t:12,.0f} {m:12,.0f} {f:12,.0f} {t / m:10.1f}x {t / f:8.1f}x")
    threads = os.environ.get("RAYON_NUM_THREADS") or f"{os.cpu_count()} (rayon's default: one per CPU)"
    print(
        f"\ntoron CPU time (all threads) of the best run; files: columns generated on a rayon pool of {threads} threads, rows formatted on it too, hashed and written by the calling thread:"
    )
    for what in ("csv", "jsonl", "dicts"):
        wall = n / rates[("toron", what)]
        print(
            f"  {labels[what]:10} {CPU[what]:.3f} s CPU for {wall:.3f} s wall: {n / CPU[what]:12,.0f} rows per CPU-second"
        )
    print("\ngoals (toron):")
    for what, bar in (("csv", 100), ("jsonl", 100), ("dicts", 10)):
        r = rates[("toron", what)] / rates[("mimesis", what)]
        print(
            f"  {'met    ' if r >= bar else 'NOT met'}  {labels[what]}: {r:.1f}x mimesis rows/s (goal >= {bar}x)"
        )


if __name__ == "__main__":
    main()
