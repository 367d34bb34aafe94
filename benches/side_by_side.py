"""Side-by-side benchmarks: Toron against the peer a user would otherwise pick, on the same workload.

`make bench` runs this. Each section prints both figures and the ratio. Numbers go to benches/README.md.

Sections:
  sim     M/M/1, 1M customers in one run: SimPy vs Toron from Python (events/s, wall time, ratio);
          sweep speed-up on all cores; peak memory of a 10M-request run against a 100k-request run.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

import toron

MM1 = """
name = "mm1"
stop = {{ requests = {n} }}
[[node]]
id = "server"
model = "queue"
params = {{ servers = 1, service = {{ dist = "exponential", mean = "1s" }} }}
[load]
mode = "open"
target = "server"
rate = "{lam}/s"
timeout = "1h"
"""


def simpy_mm1(n: int, lam: float, mu: float, seed: int) -> tuple[float, float, int | None]:
    """The textbook SimPy M/M/1: a source process and a Resource of capacity 1."""
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    total = [0.0]

    def customer(env: simpy.Environment):
        arrived = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(mu))
        total[0] += env.now - arrived

    def source(env: simpy.Environment):
        for _ in range(n):
            env.process(customer(env))
            yield env.timeout(rng.expovariate(lam))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    dt = time.perf_counter() - t0
    # SimPy numbers every scheduled event from one counter (a private attribute; None if it moves).
    eid = getattr(env, "_eid", None)
    events = next(eid) if eid is not None else None
    return dt, total[0] / n, events


def bench_sim(customers: int) -> None:
    lam = 0.9
    print(f"== M/M/1, rho = 0.9, {customers:,} customers in one run")
    scenario = toron.Scenario.from_str(MM1.format(n=customers, lam=lam))
    t0 = time.perf_counter()
    out = toron.simulate(scenario, seed=1)
    t_toron = time.perf_counter() - t0
    ev_toron = out.stats["events"]
    print(
        f"toron : {t_toron:8.3f} s  {ev_toron / t_toron / 1e6:8.2f} M events/s  "
        f"mean sojourn {out.output['server']['mean_sojourn']:.3f} s (theory 10)"
    )
    t_simpy, sojourn, ev_simpy = simpy_mm1(customers, lam, 1.0, 1)
    ev_rate = f"{ev_simpy / t_simpy / 1e6:8.2f} M events/s" if ev_simpy else "events n/a"
    print(f"simpy : {t_simpy:8.3f} s  {ev_rate}  mean sojourn {sojourn:.3f} s")
    print(f"ratio : Toron is {t_simpy / t_toron:.1f}x faster than SimPy on the same workload (wall time)")
    if ev_simpy:
        print(f"        {(ev_toron / t_toron) / (ev_simpy / t_simpy):.1f}x SimPy's events/s")

    seeds = list(range(16))
    small = toron.Scenario.from_str(MM1.format(n=100_000, lam=lam))
    t0 = time.perf_counter()
    toron.sweep(small, seeds, threads=1)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    toron.sweep(small, seeds)
    tn = time.perf_counter() - t0
    print(f"sweep : 16 seeds x 100k customers: 1 thread {t1:.3f} s, {os.cpu_count()} cores {tn:.3f} s, speed-up {t1 / tn:.2f}x")

    def peak_rss(n: int) -> int:
        code = (
            "import resource, toron, sys; "
            f"s = toron.Scenario.from_str({MM1.format(n=n, lam=lam)!r}); toron.simulate(s, seed=1); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)

    small_kb, large_kb = peak_rss(100_000), peak_rss(10_000_000)
    print(
        f"memory: peak RSS 100k requests {small_kb / 1024:.1f} MiB, 10M requests {large_kb / 1024:.1f} MiB "
        f"({(large_kb / small_kb - 1) * 100:+.1f} %)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", default=["sim"], help="sections to run (default: all)")
    ap.add_argument("--customers", type=int, default=1_000_000)
    args = ap.parse_args()
    if "sim" in args.sections:
        bench_sim(args.customers)


if __name__ == "__main__":
    main()
