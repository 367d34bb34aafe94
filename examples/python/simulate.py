"""Simulate the shipped M/M/1 and buggy kv scenarios and print each digest and summary.

The same example exists in Rust (examples/simulate.rs), C and C++; from the same scenario and seed all of
them print the same digests.

    python examples/python/simulate.py [SCENARIO...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import toron

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or [SCENARIOS / "mm1.toml", SCENARIOS / "kv_buggy.toml"]
    for path in paths:
        try:
            scenario = toron.Scenario.from_file(path)
            outcome = toron.simulate(scenario)
        except toron.Error as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(outcome.digest)
        print(outcome.summary())
        if outcome.violations:
            v = outcome.violations[0]
            print(f"  violation at {v['time']:.3f}s on {v['node']}: {v['invariant']}: {v['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
