"""Toron demo (`make demo`): the simulation engine against queueing theory, then a chaos sweep that finds a
replication bug with the seed that reproduces it.

1. M/M/1 and M/M/3 queues (the built-in `queue` model under Poisson load): measured means against
   Erlang C, computed here from the scenario files' own parameters.
2. A primary-backup key-value store under crash/restart chaos, seeds 1..20: the correct model (`kv.toml`)
   never loses an acknowledged write; the buggy one (`kv_buggy.toml`, acknowledges before replicating) does,
   and every finding replays bit for bit from its seed.

Exits with status 1 if a result contradicts the theory or the expected kv behaviour.
"""

from __future__ import annotations

import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import toron

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SEEDS = range(1, 21)
_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text: str) -> float:
    """A scenario duration (``"250ms"``) in seconds."""
    match = re.fullmatch(r"([0-9.eE+-]+)([a-z]+)", text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def erlang_c(servers: int, arrival_rate: float, service_rate: float) -> tuple[float, float, float]:
    """M/M/c queue: (probability of waiting, mean wait, mean sojourn) in seconds."""
    a = arrival_rate / service_rate
    rho = a / servers
    head = sum(a**k / math.factorial(k) for k in range(servers))
    tail = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = tail / (head + tail)
    wait = p_wait / (servers * service_rate - arrival_rate)
    return p_wait, wait, wait + 1 / service_rate


def rule(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def queues() -> bool:
    rule("1. Queueing theory: the `queue` model against Erlang C")
    header = f"{'scenario':<9}{'c':>3}{'rho':>6}{'customers':>11}  {'metric':<13}{'measured':>10}{'theory':>10}{'rel. error':>12}"
    print(header)
    print("-" * len(header))
    ok = True
    for name in ["mm1", "mm3"]:
        scenario = toron.Scenario.from_file(SCENARIOS / f"{name}.toml")
        spec: dict[str, Any] = scenario.to_dict()
        params = spec["node"][0]["params"]
        servers = int(params["servers"])
        count, _, per = spec["load"]["rate"].partition("/")
        arrival = float(count) / seconds("1" + per)
        service = 1 / seconds(params["service"]["mean"])
        rho = arrival / (servers * service)
        started = time.perf_counter()
        outcome = toron.simulate(scenario)
        elapsed = time.perf_counter() - started
        server = outcome.output["server"]
        _, wait, sojourn = erlang_c(servers, arrival, service)
        rows = [
            ("mean wait", server["mean_wait"], wait, "s"),
            ("mean sojourn", server["mean_sojourn"], sojourn, "s"),
            ("utilization", server["utilization"], rho, ""),
        ]
        for i, (metric, measured, theory, unit) in enumerate(rows):
            lead = f"{name:<9}{servers:>3}{rho:>6.2f}{server['customers']:>11,}" if i == 0 else " " * 29
            error = (measured - theory) / theory
            ok &= abs(error) < 0.10
            print(
                f"{lead}  {metric:<13}{measured:>9.3f}{unit or ' '}{theory:>9.3f}{unit or ' '}{error:>+11.2%}"
            )
        events = outcome.stats["events"]
        print(
            f"{'':29}  ({events:,} events in {elapsed:.2f} s, {events / elapsed / 1e6:.1f} M events/s; digest {outcome.digest[:16]})"
        )
    return ok


def chaos() -> bool:
    rule(f"2. Chaos: a primary-backup kv store, crashes and restarts, seeds {SEEDS[0]}..{SEEDS[-1]}")
    correct = toron.Scenario.from_file(SCENARIOS / "kv.toml")
    buggy = toron.Scenario.from_file(SCENARIOS / "kv_buggy.toml")
    good = toron.sweep(correct, SEEDS)
    bad = toron.sweep(buggy, SEEDS)
    header = (
        f"{'seed':>4}  {'kv: violations':>14}  {'kv_buggy: violations':>20}  {'first (virtual time)':>20}"
    )
    print(header)
    print("-" * len(header))
    for g, b in zip(good, bad):
        first = f"{b.violations[0]['time']:.3f} s" if b.violations else "-"
        print(f"{g.seed:>4}  {len(g.violations):>14}  {len(b.violations):>20}  {first:>20}")
    clean = all(not o.violations for o in good)
    finders = [o for o in bad if any(v["invariant"] == "acknowledged_write_lost" for v in o.violations)]
    print()
    print(
        f"kv        (replicate, then acknowledge): {'no violation on any seed' if clean else 'VIOLATIONS FOUND'}"
    )
    print(
        f"kv_buggy  (acknowledge, then replicate): acknowledged_write_lost found by {len(finders)} of {len(bad)} seeds:"
    )
    print(f"          {', '.join(str(o.seed) for o in finders) or '-'}")
    if not finders:
        return False
    seed, v = min(
        ((o.seed, v) for o in finders for v in o.violations), key=lambda sv: (sv[1]["time_ns"], sv[0])
    )
    print()
    print(f"first violation: seed {seed}, at {v['time']:.6f} s of virtual time, on node {v['node']}:")
    print(f"  {v['invariant']}: {v['message']}")
    replay = toron.simulate(buggy, seed=seed)
    swept = next(o for o in bad if o.seed == seed)
    same = replay.digest == swept.digest
    print(
        f"replay of seed {seed}: digest {replay.digest[:16]}... {'identical to the sweep' if same else 'DIFFERENT'}"
    )
    print(f'  toron.simulate(toron.Scenario.from_file("examples/scenarios/kv_buggy.toml"), seed={seed})')
    return clean and same


def main() -> int:
    print(f"Toron {toron.__version__}: deterministic simulation demo")
    ok = queues()
    ok &= chaos()
    print()
    print("all results as expected" if ok else "SOME RESULTS WERE NOT AS EXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
