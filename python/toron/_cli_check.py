"""The checkers' commands: ``toron check-history`` (is a recorded client history linearizable against a
model?) and ``toron shrink`` (the smallest scenario that still fails the same way with the same seed)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import toron
from toron import _toron

#: Exit codes of ``check-history`` (2, bad input, is the command line's own).
EXIT_LINEARIZABLE = 0
EXIT_NOT_LINEARIZABLE = 1
EXIT_UNKNOWN = 4

EPILOG = """\
exit codes:
  0  linearizable
  1  not linearizable (the counterexample is printed)
  2  bad input: an unreadable file, invalid JSON or EDN (with line and
     column), an op the model has no meaning for (with its index and field)
  4  unknown: the search ran out of its step budget (raise --budget)
"""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands to the ``toron`` parser."""
    p = commands.add_parser(
        "check-history",
        help="check a client history (JSON or Jepsen EDN) for linearizability",
        description="Check a history of client operations (a JSON array of op objects, or Jepsen EDN) "
        "against a sequential model: per key for kv, info ops as possibly applied. Prints the verdict and, "
        "when it is not linearizable, the smallest window of operations that cannot be ordered.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the history file (JSON or EDN, told apart by content)")
    p.add_argument(
        "--model",
        required=True,
        choices=["register", "cas-register", "kv", "set", "queue"],
        help="the sequential model",
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help="model steps per partition before giving up as unknown (default: 5000000)",
    )
    p.set_defaults(run=_cmd_check_history)

    s = commands.add_parser(
        "shrink",
        help="shrink a failing scenario to the smallest one that fails the same way with the same seed",
        description="Simulate SCENARIO with --seed; while the invariant of its first violation is still "
        "violated, drop faults, move them earlier and shorten them, lower the number of clients and "
        "of requests and stop earlier. Every step is a full simulation with the same seed, so the minimal "
        "scenario replays to the violation by itself (`toron simulate minimal.toml`). Prints the steps; "
        "writes the minimal scenario (TOML, headed by a comment of how it was reached) to --out, or to "
        "standard output.",
        epilog="exit codes:\n  0  shrunk (or already minimal)\n  2  bad input, or a seed that violates no "
        "invariant (nothing to shrink)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("scenario", metavar="SCENARIO", help="the scenario file (TOML, or JSON for .json)")
    s.add_argument(
        "--seed", type=int, default=None, help="the failing seed (default: the scenario's, SIM_SEED, 0)"
    )
    s.add_argument("--out", default=None, metavar="PATH", help="write the minimal scenario here (TOML)")
    s.add_argument(
        "--max-runs",
        type=int,
        default=1000,
        metavar="N",
        help="at most N simulations (default 1000); the best scenario so far is kept when they run out",
    )
    s.add_argument("--json", action="store_true", help="print the result as JSON instead of the steps")
    s.set_defaults(run=_cmd_shrink)


def _cmd_check_history(args: argparse.Namespace) -> int:
    if args.budget is not None and args.budget < 0:
        print("toron: error: --budget must be >= 0", file=sys.stderr)
        return 2
    verdict = toron.check_linearizable(Path(args.file), model=args.model, budget=args.budget)
    if args.json:
        print(json.dumps(verdict, indent=2, sort_keys=True))
    else:
        print(_toron._verdict_text(verdict), end="")
    result = verdict["linearizable"]
    if result is None:
        return EXIT_UNKNOWN
    return EXIT_LINEARIZABLE if result else EXIT_NOT_LINEARIZABLE


def _cmd_shrink(args: argparse.Namespace) -> int:
    if args.max_runs < 1:
        print("toron: error: --max-runs must be >= 1", file=sys.stderr)
        return 2
    if args.seed is not None and args.seed < 0:
        print("toron: error: --seed must be >= 0", file=sys.stderr)
        return 2
    scenario = toron.Scenario.from_file(args.scenario)
    shrunk = toron.shrink(scenario, args.seed, max_runs=args.max_runs)
    if args.out is not None:
        shrunk.write(args.out)
    report = sys.stderr if args.out is None and not args.json else sys.stdout
    if args.json:
        print(json.dumps(shrunk.to_dict(), indent=2, sort_keys=True))
    else:
        o, m = shrunk.original, shrunk.minimal
        print(
            f"shrunk {scenario.name} seed {shrunk.seed}: {shrunk.invariant} still violated; "
            f"faults {o['faults']} -> {m['faults']}, clients {o['clients']} -> {m['clients']}, "
            f"requests {o['requests']} -> {m['requests']} ({len(shrunk.steps)} steps kept in {shrunk.runs} "
            "simulations)",
            file=report,
        )
        for step in shrunk.steps:
            print(f"  - {step}", file=report)
        if shrunk.exhausted:
            print("  (the run budget ran out: raise --max-runs to shrink further)", file=report)
        if args.out is not None:
            print(f"wrote {args.out}", file=report)
    if args.out is None:
        print(shrunk.to_toml(), end="")
    return 0
