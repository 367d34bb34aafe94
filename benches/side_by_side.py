"""Side-by-side benchmarks: Toron against the peer a user would otherwise pick, on the same workload.

`make bench` runs this. Each section prints both figures and the ratio. Numbers go to benches/README.md.

Sections:
  sim     M/M/1, 1M customers in one run: SimPy vs Toron from Python (events/s, wall time, ratio);
          sweep speed-up on all cores; peak memory of a 10M-request run against a 100k-request run.
  structural
          generated JSON documents of about 1 MB and 20 MB (records with nested members), about 1 % of leaves
          changed and array records inserted, deleted and moved (seeded): toron.diff from Python (including
          the conversion of both documents) vs deepdiff.DeepDiff and jsonpatch.make_patch, with ratios, and
          the patch size against the number of edits made. Peers run in a child process under a time
          budget (--budget, default 120 s); one that exceeds it is reported as "> budget", not waited for.
  nodes   the same M/M/1 with its server written as a Python Toron node (`toron.Node`: the kernel, network and
          Poisson load stay in Rust, only the node's callbacks run Python) vs the SimPy model, 200k customers
          by default (--node-customers); goal >= 3x SimPy.
  text    a 10 MB text with about 1 % of lines changed: toron.text_diff + unified output vs difflib.unified_diff
          and GNU `diff -u` (a process reading two files: its time includes start-up and reading).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import deque

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
    # Best of 3, as in the other sections: one 0.2 s run is at the mercy of the scheduler on a shared machine
    # (SimPy's one run lasts seconds). The first run is printed too.
    t0 = time.perf_counter()
    toron.simulate(scenario, seed=1)
    t_first = time.perf_counter() - t0
    t_toron, c_toron, out = timed(lambda: toron.simulate(scenario, seed=1), 3)
    t_toron = min(t_toron, t_first)
    ev_toron = out.stats["events"]  # type: ignore[attr-defined]
    print(
        f"toron : {t_toron:8.3f} s  {ev_toron / t_toron / 1e6:8.2f} M events/s  "
        f"mean sojourn {out.output['server']['mean_sojourn']:.3f} s (theory 10)  "  # type: ignore[attr-defined]
        f"(best of 4 runs; first run {t_first:.3f} s, CPU {c_toron:.3f} s)"
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
    print(
        f"sweep : 16 seeds x 100k customers: 1 thread {t1:.3f} s, {os.cpu_count()} cores {tn:.3f} s, speed-up {t1 / tn:.2f}x"
    )

    def peak_rss(n: int) -> int:
        code = (
            "import resource, toron, sys; "
            f"s = toron.Scenario.from_str({MM1.format(n=n, lam=lam)!r}); toron.simulate(s, seed=1); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        return int(
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        )

    small_kb, large_kb = peak_rss(100_000), peak_rss(10_000_000)
    print(
        f"memory: peak RSS 100k requests {small_kb / 1024:.1f} MiB, 10M requests {large_kb / 1024:.1f} MiB "
        f"({(large_kb / small_kb - 1) * 100:+.1f} %)"
    )


# --- the M/M/1 server as a Python node -------------------------------------------------------------------


class PyQueue(toron.Node):
    """M/M/1's server written by a user: one server, a FIFO queue, exponential service at `mu` per second.

    The same behaviour as the built-in `queue` model with `servers = 1`; only the random stream differs (the
    node draws from its own stream through `ctx`), so the means agree, not the digests.
    """

    def __init__(self, mu: float = 1.0) -> None:
        # expovariate at a rate per nanosecond gives nanoseconds, what set_timer takes as an int.
        self.rate = mu / 1e9
        self.waiting: deque[tuple[int, toron.Message]] = deque()
        self.current: tuple[int, toron.Message] | None = None
        self.customers = 0
        self.total_sojourn = 0

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        if self.current is None:
            self.current = (ctx.now, msg)
            ctx.set_timer("done", int(ctx.expovariate(self.rate)))
        else:
            self.waiting.append((ctx.now, msg))

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        assert self.current is not None
        arrived, msg = self.current
        ctx.reply(msg, {"type": "ok"})
        self.customers += 1
        self.total_sojourn += ctx.now - arrived
        ctx.output["customers"] = self.customers
        ctx.output["mean_sojourn"] = self.total_sojourn / self.customers / 1e9
        if self.waiting:
            self.current = self.waiting.popleft()
            ctx.set_timer("done", int(ctx.expovariate(self.rate)))
        else:
            self.current = None


def bench_nodes(customers: int) -> None:
    lam = 0.9
    print(f"== M/M/1 with a Python node as the server, rho = 0.9, {customers:,} customers in one run")
    scenario = toron.Scenario.from_str(MM1.format(n=customers, lam=lam), nodes={"server": PyQueue(1.0)})
    t0 = time.perf_counter()
    first = toron.simulate(scenario, seed=1)
    t_first = time.perf_counter() - t0
    t_toron, c_toron, out = timed(lambda: toron.simulate(scenario, seed=1), 2)
    t_toron = min(t_toron, t_first)
    assert out.digest == first.digest, "a Python node must give the same digest on every run"  # type: ignore[attr-defined]
    served = out.output["server"]  # type: ignore[attr-defined]
    print(
        f"toron : {t_toron:8.3f} s  {served['customers']:,} served, mean sojourn {served['mean_sojourn']:.3f} s "
        f"(theory 10)  (best of 3 runs; first run {t_first:.3f} s, CPU {c_toron:.3f} s)"
    )
    t_simpy, sojourn, _ = simpy_mm1(customers, lam, 1.0, 1)
    print(f"simpy : {t_simpy:8.3f} s  mean sojourn {sojourn:.3f} s")
    print(f"ratio : Toron with a Python node is {t_simpy / t_toron:.1f}x faster than SimPy (goal >= 3x)")


# --- structural and text diff ------------------------------------------------------------------------------

WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta", "lambda", "zeta"]


def make_record(rng: random.Random, i: int) -> dict:
    """One record: 11 leaves in nested objects and arrays, about 196 bytes of JSON."""
    return {
        "id": i,
        "name": f"{rng.choice(WORDS)}-{rng.randrange(10**6)}",
        "price": round(rng.uniform(0, 1000), 2),
        "stock": rng.randrange(1000),
        "active": rng.random() < 0.8,
        "tags": [rng.choice(WORDS) for _ in range(2)],
        "dims": {"w": rng.randrange(100), "h": rng.randrange(100)},
        "vendor": {"name": rng.choice(WORDS), "country": rng.choice(["FR", "DE", "US", "JP"])},
    }


LEAVES = [
    "name",
    "price",
    "stock",
    "active",
    ("tags", 0),
    ("tags", 1),
    ("dims", "w"),
    ("dims", "h"),
    ("vendor", "name"),
    ("vendor", "country"),
]


def make_docs(target_bytes: int, seed: int) -> tuple[dict, dict, dict]:
    """`old` of about `target_bytes`, `new` with about 1 % of leaves changed and 0.1 % of records each
    inserted, deleted and moved, and what was done."""
    rng = random.Random(seed)
    n = max(10, target_bytes // 196)
    old = {
        "meta": {"generator": "toron-bench", "seed": seed, "records": n},
        "items": [make_record(rng, i) for i in range(n)],
    }
    items = [json.loads(json.dumps(r)) for r in old["items"]]
    leaves = n * (len(LEAVES) + 1)
    changed = 0
    for _ in range(leaves // 100):
        r = items[rng.randrange(n)]
        leaf = rng.choice(LEAVES)
        if isinstance(leaf, tuple):
            container, key = r[leaf[0]], leaf[1]
        else:
            container, key = r, leaf
        before = container[key]
        container[key] = (
            not before
            if isinstance(before, bool)
            else before + 1
            if isinstance(before, (int, float))
            else before + "~"
        )
        changed += 1
    k = max(1, n // 1000)
    for _ in range(k):  # deletions
        items.pop(rng.randrange(len(items)))
    for j in range(k):  # insertions
        items.insert(rng.randrange(len(items) + 1), make_record(rng, n + j))
    for _ in range(k):  # moves
        items.insert(rng.randrange(len(items)), items.pop(rng.randrange(len(items))))
    new = {"meta": dict(old["meta"]), "items": items}
    return old, new, {"leaves": leaves, "changed": changed, "inserted": k, "deleted": k, "moved": k}


def peer_in_child(what: str, mb: float, seed: int, budget: float) -> str:
    """Time a peer in a child process (so that a slow one can be stopped): its seconds, or '> budget'."""
    cmd = [sys.executable, __file__, "_peer", what, str(mb), str(seed)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=budget, check=True)
    except subprocess.TimeoutExpired:
        return f"> {budget:.0f}"
    except subprocess.CalledProcessError as e:
        return f"failed: {e.stderr.strip().splitlines()[-1] if e.stderr.strip() else e.returncode}"
    return out.stdout.strip()


def run_peer(what: str, mb: float, seed: int) -> None:
    """The child side of `peer_in_child`: prints the peer's wall and CPU seconds (generation not timed)."""
    if what in ("deepdiff", "jsonpatch"):
        old, new, _ = make_docs(int(mb * 1e6), seed)
        if what == "deepdiff":
            from deepdiff import DeepDiff

            t0, c0 = time.perf_counter(), time.process_time()
            DeepDiff(old, new)
        else:
            import jsonpatch

            t0, c0 = time.perf_counter(), time.process_time()
            jsonpatch.make_patch(old, new)
    else:
        import difflib

        old_text, new_text = make_texts(int(mb * 1e6), seed)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True), "a", "b"):
            pass
    print(f"{time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")


def ratio(peer: str, ours: float) -> str:
    try:
        return f"{float(peer) / ours:8.1f}x"
    except ValueError:
        return f"> {float(peer.split()[-1]) / ours:.0f}x" if peer.startswith(">") else "   n/a"


def show_peer(name: str, result: str, wall: float, cpu: float) -> None:
    """One peer's line: wall and CPU seconds and how many times Toron is faster by each."""
    if not result[0].isdigit():
        print(
            f"{name:15}: {result} s (stopped: over the time budget)   toron is {ratio(result, wall)} faster"
        )
        return
    pw, pc = result.split()
    print(
        f"{name:15}: {float(pw):8.3f} s wall {float(pc):8.3f} s CPU   toron is {ratio(pw, wall)} faster "
        f"(wall), {ratio(pc, cpu)} (CPU)"
    )


def timed(f: object, repeat: int = 3) -> tuple[float, float, object]:
    """Best wall and best CPU seconds (all threads of this process) of `repeat` calls of `f`, and its result."""
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()  # type: ignore[operator]
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu, out


def bench_structural(sizes: list[float], budget: float, seed: int = 4) -> None:
    for mb in sizes:
        old, new, did = make_docs(int(mb * 1e6), seed)
        size = len(json.dumps(old))
        print(
            f"== structural diff, {size / 1e6:.1f} MB document, {did['leaves']:,} leaves: {did['changed']:,} "
            f"changed, {did['inserted']} records inserted, {did['deleted']} deleted, {did['moved']} moved"
        )
        d = toron.diff(old, new)
        best, cpu, patch = timed(lambda old=old, new=new: toron.diff(old, new).patch)
        assert toron.apply_patch(old, patch) == new
        t_keyed, c_keyed, keyed = timed(
            lambda old=old, new=new: toron.diff(old, new, keys={"/items": "id"}), 1
        )
        print(
            f"toron          : {best:8.3f} s wall {cpu:8.3f} s CPU   (diff + patch as Python objects, including "
            "conversion; best of 3)"
        )
        print(f"toron keyed    : {t_keyed:8.3f} s wall {c_keyed:8.3f} s CPU   (keys={{'/items': 'id'}})")
        for peer in ("deepdiff", "jsonpatch"):
            show_peer(peer, peer_in_child(peer, mb, seed, budget), best, cpu)
        edits = did["changed"] + did["inserted"] + did["deleted"] + did["moved"]
        n_keyed = len(keyed.patch)  # type: ignore[attr-defined]
        print(
            f"patch size     : {len(patch):,} operations ({d.summary()}) for {edits:,} edits "
            f"({len(patch) / edits:.2f} per edit); keyed: {n_keyed:,} ({n_keyed / edits:.2f})"
        )


def make_texts(target_bytes: int, seed: int) -> tuple[str, str]:
    """A text of about `target_bytes` (lines of about 60 bytes) and a copy with about 1 % of lines changed
    (replaced, inserted or deleted)."""
    rng = random.Random(seed)
    lines = [f"{i:08d} {' '.join(rng.choice(WORDS) for _ in range(8))}\n" for i in range(target_bytes // 60)]
    new = list(lines)
    for _ in range(len(lines) // 100):
        i = rng.randrange(len(new))
        op = rng.random()
        if op < 0.6:
            new[i] = new[i].replace(" ", " * ", 1)
        elif op < 0.8:
            new.insert(i, f"inserted {rng.randrange(10**9)}\n")
        else:
            new.pop(i)
    return "".join(lines), "".join(new)


def bench_text(mb: float, budget: float, seed: int = 5) -> None:
    import tempfile

    old, new = make_texts(int(mb * 1e6), seed)
    print(f"== text diff, {len(old) / 1e6:.1f} MB, {old.count(chr(10)):,} lines, about 1 % changed")
    best, cpu, out = timed(lambda: toron.text_diff(old, new).unified(3, "a", "b"))
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        with open(a, "w") as f:
            f.write(old)
        with open(b, "w") as f:
            f.write(new)
        import resource

        t_gnu = c_gnu = float("inf")
        for _ in range(3):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            gnu = subprocess.run(["diff", "-u", a, b], capture_output=True, check=False)
            t_gnu = min(t_gnu, time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            c_gnu = min(c_gnu, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    assert isinstance(out, str)
    hunks = out.count("\n@@ ") + out.startswith("@@ ")
    print(
        f"toron          : {best:8.3f} s wall {cpu:8.3f} s CPU   (text_diff + unified output, best of 3; "
        f"{hunks:,} hunks, {len(out) / 1e6:.2f} MB)"
    )
    print(
        f"GNU diff -u    : {t_gnu:8.3f} s wall {c_gnu:8.3f} s CPU   toron is {t_gnu / best:8.2f}x faster (wall), "
        f"{c_gnu / cpu:8.2f}x (CPU) (output {len(gnu.stdout) / 1e6:.2f} MB; best of 3)"
    )
    show_peer("difflib", peer_in_child("difflib", mb, seed, budget), best, cpu)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_peer":
        run_peer(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "sections", nargs="*", default=["sim", "nodes", "structural", "text"], help="sections to run (default: all)"
    )
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--node-customers", type=int, default=200_000, help="nodes: customers (default 200k)")
    ap.add_argument("--sizes", default="1,20", help="structural: document sizes in MB (default 1,20)")
    ap.add_argument("--text-mb", type=float, default=10.0, help="text: size of the text in MB (default 10)")
    ap.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds a peer may take before it is stopped and reported as over the budget",
    )
    args = ap.parse_args()
    if "sim" in args.sections:
        bench_sim(args.customers)
    if "nodes" in args.sections:
        bench_nodes(args.node_customers)
    if "structural" in args.sections:
        bench_structural([float(s) for s in args.sizes.split(",")], args.budget)
    if "text" in args.sections:
        bench_text(args.text_mb, args.budget)


if __name__ == "__main__":
    main()
