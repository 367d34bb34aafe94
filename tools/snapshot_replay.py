"""Replay an archived run (the operations guide's ``python tools/snapshot_replay.py --run-id <id>
--offline``): every sim, chaos, load and determinism case is re-run from the scenario and seeds stored in the
archive, not the working tree, and its output diffed against the archived one; command cases are listed as
not replayed offline.

Exits 0 when every replayed case is identical, 1 when one differs (its diff is printed), 2 for an unknown run
id (the message lists the newest ids) or other bad input. It calls the engine directly (``toron.replay``).
"""

from __future__ import annotations

import argparse
import sys

from _toron_venv import import_toron_or_reexec

import_toron_or_reexec(__file__)

import toron


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-id", required=True, help="the run to replay (see `toron runs`)")
    p.add_argument(
        "--offline",
        action="store_true",
        required=True,
        help="replay from the archive alone (the only mode: command cases need the working tree)",
    )
    p.add_argument("--archive", default=".toron", help="the run archive (default: .toron)")
    args = p.parse_args(argv)
    try:
        result = toron.replay(args.run_id, offline=args.offline, archive=args.archive)
    except (toron.Error, OSError) as e:
        print(f"snapshot_replay: error: {e}", file=sys.stderr)
        return 2
    print(f"run {result.run}")
    for case in result.cases:
        status = str(case["status"]).replace("_", " ")
        line = f"  {status:<13} {case['case']}"
        if case.get("message") and case["status"] != "identical":
            line += f": {case['message']}"
        print(line)
        if case["status"] == "differs" and case.get("text"):
            print("    " + str(case["text"]).rstrip("\n").replace("\n", "\n    "))
    print("identical" if result.identical else "differs")
    return 0 if result.identical else 1


if __name__ == "__main__":
    sys.exit(main())
