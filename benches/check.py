"""Time `toron.check_linearizable` on generated Jepsen-etcd-sized histories (and on history files given).

    .venv/bin/python benches/check.py [--calls 3000] [--processes 30] [--keys 10] [--seed 1] [FILE:MODEL ...]

The generator plays a correct compare-and-set register per key: each call has an invocation time, a
duration and a linearization point inside it; results are computed in linearization order, so the history
is linearizable by construction. About 5 % of calls time out (`info`): half of them still take effect, and
the process is then replaced by a new one, as Jepsen does. A corrupted copy (one read changed to a value
never written) gives the non-linearizable case, whose time includes building the counterexample.
Porcupine (Go) is not run here: it cannot be fetched on the project machine (see benches/README.md).
Then `toron.shrink` on examples/scenarios/kv_buggy.toml seed 3 (time, simulations, steps, sizes) and the cost
of `[invariants] linearizable` on that run.
"""

from __future__ import annotations

import argparse
import heapq
import random
import time
from typing import Any

import toron


def generate(calls: int, processes: int, keys: int, seed: int, per_key: int = 0) -> list[dict[str, Any]]:
    """With ``per_key``, process p (and the processes that replace it) works on key ``p // per_key`` only, as
    Jepsen's independent generators give each key its own group of threads; else every call picks a key."""
    rng = random.Random(seed)
    group: dict[int, int] = {p: p // per_key for p in range(processes)} if per_key else {}
    state: dict[Any, Any] = {}
    events: list[tuple[float, int, dict[str, Any]]] = []
    points: list[tuple[float, int, dict[str, Any], dict[str, Any] | None]] = []
    free = [(rng.random(), p) for p in range(processes)]
    heapq.heapify(free)
    next_process = processes
    seq = 0
    for _ in range(calls):
        start, process = heapq.heappop(free)
        duration = rng.expovariate(1.0) + 0.05
        end = start + duration
        key = group[process] if per_key else rng.randrange(keys)
        kind = rng.random()
        value: Any
        if kind < 0.5:
            f, value = "read", None
        elif kind < 0.8:
            f, value = "write", rng.randrange(5)
        else:
            f, value = "cas", [rng.randrange(5), rng.randrange(5)]
        timed_out = rng.random() < 0.05
        invoke = {"process": process, "type": "invoke", "f": f, "key": key, "value": value}
        done: dict[str, Any] = {"process": process, "type": "ok", "f": f, "key": key, "value": value}
        events.append((start, seq, invoke))
        seq += 1
        events.append((end, seq, done))
        seq += 1
        if timed_out:
            done["type"] = "info"
            if rng.random() < 0.5:
                points.append((rng.uniform(start, end + 5.0), seq, invoke, None))
            if per_key:
                group[next_process] = group[process]
            process, next_process = next_process, next_process + 1
        else:
            points.append((rng.uniform(start, end), seq, invoke, done))
        heapq.heappush(free, (end + rng.expovariate(4.0), process))
    # Apply the calls in linearization order to get their results.
    for _, _, call, result in sorted(points, key=lambda p: (p[0], p[1])):
        key, current = call["key"], state.get(call["key"])
        if call["f"] == "read":
            if result is not None:
                result["value"] = current
        elif call["f"] == "write":
            state[key] = call["value"]
        else:
            old, new = call["value"]
            if current == old:
                state[key] = new
            elif result is not None:
                result["type"] = "fail"
    return [op for _, _, op in sorted(events, key=lambda e: (e[0], e[1]))]


def corrupt(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same history with the last acknowledged read answering a value nobody wrote."""
    out = [dict(op) for op in history]
    for op in reversed(out):
        if op["f"] == "read" and op["type"] == "ok":
            op["value"] = 99
            break
    return out


def timed(history: Any, model: str, repeat: int = 3) -> tuple[float, dict[str, Any]]:
    best = float("inf")
    verdict: dict[str, Any] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        verdict = toron.check_linearizable(history, model=model)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - t0)
    return best, verdict


def report(name: str, history: Any, model: str) -> None:
    seconds, v = timed(history, model)
    processes = len({op["process"] for op in history}) if isinstance(history, list) else "?"
    print(
        f"{name:<36} {model:<12} ops {v['ops']:>6}  processes {processes!s:>4}  partitions {v['partitions']:>3}  "
        f"steps {v['steps']:>8}  {v['linearizable']!s:<5}  {seconds * 1000:8.1f} ms"
    )


def shrink_report() -> None:
    """`toron.shrink` on the example with a lost-write bug, and the shrunk scenario's own check."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "scenarios" / "kv_buggy.toml"
    scenario = toron.Scenario.from_file(path)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        shrunk = toron.shrink(scenario, 3)
        best = min(best, time.perf_counter() - start)
    o, m = shrunk.original, shrunk.minimal
    print(
        f"shrink kv_buggy seed 3: {best * 1000:.0f} ms, {shrunk.runs} simulations, {len(shrunk.steps)} steps "
        f"kept; faults {o['faults']} -> {m['faults']}, clients {o['clients']} -> {m['clients']}, requests "
        f"{o['requests']} -> {m['requests']}, virtual time {o['virtual_time_ns'] / 1e9:g}s -> "
        f"{m['virtual_time_ns'] / 1e9:g}s"
    )
    text = (path.read_text(encoding="utf-8")) + '\n[invariants]\nlinearizable = "kv"\n'
    lin = toron.Scenario.from_str(text)
    start = time.perf_counter()
    outcome = toron.simulate(lin, 3)
    with_check = time.perf_counter() - start
    start = time.perf_counter()
    toron.simulate(scenario, 3)
    plain = time.perf_counter() - start
    verdict = outcome.linearizable or {}
    print(
        f"kv_buggy seed 3 with [invariants] linearizable: {with_check * 1000:.1f} ms (without: {plain * 1000:.1f} ms),"
        f" history of {verdict.get('ops')} records, {verdict.get('partitions')} keys, "
        f"linearizable={verdict.get('linearizable')}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--processes", type=int, default=30)
    ap.add_argument("--keys", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("files", nargs="*", metavar="FILE:MODEL")
    args = ap.parse_args()
    kv = generate(args.calls, args.processes, args.keys, args.seed)
    one = generate(args.calls, args.processes, 1, args.seed)
    # Jepsen's etcd register test: independent keys, each with its own 10 threads.
    etcd = generate(args.calls, 10 * args.keys, args.keys, args.seed, per_key=10)
    print("best of 3, wall clock, from Python (parsing the history included)")
    report(f"kv, {args.keys} keys x 10 threads", etcd, "kv")
    report(f"kv, {args.keys} keys x 10 threads, bad read", corrupt(etcd), "kv")
    report(f"kv, {args.keys} keys, shared threads", kv, "kv")
    report(f"kv, {args.keys} keys, shared, bad read", corrupt(kv), "kv")
    report("one cas-register", [{k: v for k, v in op.items() if k != "key"} for op in one], "cas-register")
    report(
        "one cas-register, one bad read",
        corrupt([{k: v for k, v in op.items() if k != "key"} for op in one]),
        "cas-register",
    )
    shrink_report()
    for item in args.files:
        path, _, model = item.rpartition(":")
        seconds, v = timed(path, model)
        print(
            f"{path:<36} {model:<12} ops {v['ops']:>6}  partitions {v['partitions']:>3}  steps {v['steps']:>8}  "
            f"{v['linearizable']!s:<5}  {seconds * 1000:8.1f} ms"
        )


if __name__ == "__main__":
    main()
