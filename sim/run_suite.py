"""Run a profile of ``testops.toml`` in-process (the operations guide's ``python sim/run_suite.py --profile
offline``): prints the run id, each case's outcome, the verdict and the report, and exits by the verdict
(0 GO, 1 NO-GO, 2 bad input, 3 errored run, 130 interrupted; Ctrl-C cancels the run and records it).

It calls the engine directly (``toron.run``), not the ``toron`` command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The re-exec helper lives beside the other guide script, in tools/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from _toron_venv import import_toron_or_reexec

import_toron_or_reexec(__file__)

import toron

EXIT = {"passed": 0, "failed": 1, "errored": 3, "cancelled": 130}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="offline", help="the profile to run (default: offline)")
    p.add_argument("--manifest", default="testops.toml", help="the manifest (default: testops.toml)")
    p.add_argument("--seed", type=int, default=None, help="the seed of cases that name none (else SIM_SEED)")
    p.add_argument("--jobs", type=int, default=None, help="cases run in parallel")
    args = p.parse_args(argv)
    try:
        manifest = toron.Manifest.from_file(Path(args.manifest))
        result = toron.run(manifest, profile=args.profile, seed=args.seed, jobs=args.jobs)
    except KeyboardInterrupt:
        print("interrupted: the run was cancelled and recorded", file=sys.stderr)
        return 130
    except (toron.Error, OSError) as e:
        print(f"run_suite: error: {e}", file=sys.stderr)
        return 2
    print(f"run {result.id}")
    for case in result.cases:
        print(f"  {case['outcome']:<10} {case['suite']}/{case['name']}")
    print(f"verdict {result.verdict}")
    if result.error:
        print(f"error: {result.error}")
    if result.report_dir:
        print(f"report {Path(result.report_dir) / 'index.html'}")
    return EXIT.get(result.state, 3)


if __name__ == "__main__":
    sys.exit(main())
