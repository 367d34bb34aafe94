"""Side-by-side benchmark of the runner (issue 6), printing Toron's figure next to the peer's and the ratio.

- ``overhead``: per-case overhead of ``toron run`` against pytest running the same number of trivial tests.
  Both run as a fresh process (``python -m toron run`` / ``python -m pytest``) on 1, N/4, N/2 and N cases
  (default N = 1 000), each timed as the best of ``--repeat`` runs; the per-case overhead is the slope of the
  line fitted through those times, so start-up cost is not counted for either. Toron's trivial case is a simulation of one echo request; pytest's is
  ``def test_i(): pass``. Bar: Toron's per-case overhead >= 10x lower.
- ``parallel``: CPU-bound simulation cases (M/M/1, 1M customers each) with ``jobs=2`` against
  ``jobs=1``, in-process (``toron.run``). Bar: >= 1.8x on 2 cores.

``python benches/runner.py [overhead] [parallel] [--cases N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import toron

ONE_REQUEST = """name = "one"
stop = { requests = 1 }
[[node]]
id = "s"
model = "echo"
[load]
mode = "closed"
target = "s"
clients = 1
"""

MM1 = """name = "mm1-bench"
stop = { requests = 1_000_000 }
[[node]]
id = "server"
model = "queue"
params = { servers = 1, service = { dist = "exponential", mean = "1s" } }
[load]
mode = "open"
target = "server"
arrivals = "poisson"
rate = "0.9/s"
timeout = "1h"
"""


def toron_project(root: Path, cases: int, scenario: str, jobs: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "s.toml").write_text(scenario)
    lines = [f'[project]\nname = "bench"\njobs = {jobs}\n\n[[suite]]\nname = "bench"\n']
    lines += [
        f'[[suite.case]]\nname = "c{i}"\nkind = "sim"\nscenario = "s.toml"\nseed = {i}\n'
        for i in range(cases)
    ]
    (root / "testops.toml").write_text("\n".join(lines))
    return root / "testops.toml"


def pytest_project(root: Path, cases: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "test_trivial.py"
    path.write_text("".join(f"def test_{i}():\n    pass\n\n" for i in range(cases)))
    return path


def best(argv: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (n, seconds): the cost of one more case, start-up excluded."""
    mean_n = sum(n for n, _ in points) / len(points)
    mean_t = sum(t for _, t in points) / len(points)
    num = sum((n - mean_n) * (t - mean_t) for n, t in points)
    return num / sum((n - mean_n) ** 2 for n, _ in points)


def overhead(cases: int, repeat: int) -> None:
    # Several sizes up to `cases`, a line fitted through their best times: one noisy size moves the slope
    # far less than it moves (t(N) - t(1)) / (N - 1).
    sizes = sorted({1, max(2, cases // 4), max(3, cases // 2), cases})
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        timings: dict[tuple[str, int], float] = {}
        for n in sizes:
            manifest = toron_project(base / f"toron-{n}", n, ONE_REQUEST, jobs=2)
            timings[("toron", n)] = best(
                [sys.executable, "-m", "toron", "run", "--manifest", str(manifest), "--no-progress"],
                manifest.parent,
                repeat,
            )
            test = pytest_project(base / f"pytest-{n}", n)
            timings[("pytest", n)] = best(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                test.parent,
                repeat,
            )
    per = {tool: slope([(n, timings[(tool, n)]) for n in sizes]) for tool in ("toron", "pytest")}
    print(f"runner overhead, trivial cases (fresh process each; best of {repeat}; slope over {sizes} cases):")
    for tool in ("toron", "pytest"):
        times = ", ".join(f"{n}: {timings[(tool, n)]:.3f} s" for n in sizes)
        print(f"  {tool:<7} {times} -> {per[tool] * 1e6:.0f} us per case")
    print(f"  per-case overhead: Toron {per['pytest'] / per['toron']:.1f}x lower than pytest (bar: >= 10x)")


def parallel(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        manifest = toron.Manifest.from_file(toron_project(Path(tmp), 8, MM1, jobs=1))
        timings = {}
        for jobs in (1, 2):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                result = toron.run(manifest, jobs=jobs)
                times.append(time.perf_counter() - t)
                assert result.state == "passed", result.error
            timings[jobs] = min(times)
    print(f"parallel sim cases: 8 x M/M/1 1M customers (best of {repeat}, {os.cpu_count()} cores):")
    print(
        f"  jobs=1 {timings[1]:.3f} s, jobs=2 {timings[2]:.3f} s: {timings[1] / timings[2]:.2f}x (bar: >= 1.8x)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="*", metavar="overhead|parallel", help="what to measure (default: both)")
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    what = args.what or ["overhead", "parallel"]
    unknown = sorted(set(what) - {"overhead", "parallel"})
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)} (expected overhead or parallel)")
    if "overhead" in what:
        overhead(args.cases, args.repeat)
    if "parallel" in what:
        parallel(args.repeat)


if __name__ == "__main__":
    main()
