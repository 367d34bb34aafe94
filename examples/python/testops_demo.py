"""Toron demo, part 2 (`make demo`): the test operations of `examples/testops/`, a small shop project.

Runs its `full` profile (lint, unit tests with coverage, simulations against goldens, determinism across
threads and processes, chaos, load) — GO — then its `broken` profile — NO-GO, with a golden mismatch, the
buggy kv's lost write and coverage under its gate — and prints each verdict with the rules that decided it,
then the warroom incident the NO-GO opened (`[warroom] open_on = "no-go"`) and the postmortem written from it.

Exits with status 1 if `full` is not GO or `broken` is not NO-GO. `python testops_demo.py [PROJECT]` runs
another copy of the project (the tests run a temporary one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import toron

PROJECT = Path(__file__).resolve().parents[1] / "testops"


def show(result: toron.RunResult) -> None:
    print(f"run {result.id}: {result.verdict}")
    for case in result.cases:
        print(f"  {case['outcome']:<10} {case['suite']}/{case['name']}")
    for rule in result.to_dict()["verdict"]["rules"]:
        if rule["status"] != "passed":
            print(f"  [{rule['severity']}] {rule['rule']}: {rule['explanation']}")
    if result.report_dir:
        print(f"  report: {Path(result.report_dir) / 'index.html'}")


def main() -> int:
    # The project's unit suite runs `python -m pytest`: this interpreter's environment has pytest.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    project = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT
    manifest = toron.Manifest.from_file(project / "testops.toml")
    print("examples/testops, profile full:")
    full = toron.run(manifest, profile="full")
    show(full)
    print()
    print("examples/testops, profile broken:")
    broken = toron.run(manifest, profile="broken")
    show(broken)
    ok = full.verdict == "GO" and broken.verdict == "NO-GO"
    incident = broken.incident
    if incident:
        warroom = toron.Warroom(
            project / "warroom",
            archive=project / ".toron",
            snapshots=project / "snapshots",
            reports=project / "reports",
        )
        details = warroom.incident(incident["id"])
        how = "opened" if incident["created"] else "joined"
        print(
            f"  incident {details['id']} ({details['severity']}, {details['status']}) {how}: {details['title']}"
        )
        for rule in details["rules"]:
            print(f"    rule: {rule['rule']}")
        print(f"  postmortem: {warroom.postmortem(details['id'])}")
    else:
        ok = False
        print("  no incident was opened for the NO-GO run")
    print()
    print("as expected: full is GO, broken is NO-GO" if ok else "UNEXPECTED verdicts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
