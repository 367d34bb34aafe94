"""``toron check-history``: is a recorded client history linearizable against a model?"""

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
