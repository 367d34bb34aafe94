"""The ``toron`` command line (also ``python -m toron``).

Commands: ``toron run`` (a manifest's suites, ending in a GO / NO-GO verdict), ``toron runs``, ``toron report``,
``toron replay --run-id ID``, ``toron diff OLD NEW``, ``toron trace diff A B``,
``toron snapshot list|review|accept|reject|refresh``, ``toron simulate SCENARIO``, ``toron digest FILE``,
``toron check-history FILE --model M`` (its own exit codes: 4 when the verdict is unknown).

Exit codes, the same for every command (and for every command that ends in a verdict): 0 success (GO,
same, identical), 1 NO-GO or a difference found (or pending left, violations found, a golden skipped),
2 bad input (usage, manifest, scenario, unknown run id, unreadable file, non-interactive review), 3 an errored
run (a harness failure: the archive or the reports cannot be written), 130 interrupted (a run is cancelled and
recorded as such first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO, cast

import toron
from toron import _toron

#: Exit codes (also listed by ``toron --help``).
EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_NO_GO = 1
EXIT_ERROR = 2
EXIT_ERRORED = 3
EXIT_INTERRUPTED = 130

RUN_SEEDS = """\
seeds, first that applies, per case:
  1  the case's own `seed` / `seeds` in testops.toml (never overridden)
  2  --seed, else SIM_SEED: replaces the seed the case's scenario file names,
     for this run only; report.json lists those cases in run.seed_overrides,
     and their golden comparison is skipped (the golden is of the scenario's
     seed)
  3  the scenario file's `seed`
  4  0

"""

EPILOG = """\
exit codes (the same for every command that ends in a verdict):
  0  success: GO; the documents or traces are the same, the replay is
     identical; the command did what it was asked
  1  NO-GO, or a difference: `diff`, `trace diff` and `replay` found one,
     `simulate` found invariant violations, `snapshot review` left candidates
     pending, `snapshot refresh` skipped a case that did not pass
  2  bad input: usage, an invalid or unreadable manifest, scenario or file
     (named with file, line and column), an unknown run id, `snapshot review`
     without an interactive terminal
  3  an errored run: a harness failure (the archive or the reports cannot be
     written, a run that could not get the archive)
  4  `check-history` only: unknown (the search ran out of its step budget)
  130 interrupted (Ctrl-C); `run` cancels the run and records it first
"""


_Format = Literal["text", "color", "html", "json"]


class _Usage(Exception):
    """A mistake in the command line that argparse cannot see (reported with exit code 2)."""


class _Errored(Exception):
    """A harness failure, not the user's input: the archive or reports cannot be written (exit code 3)."""


@contextlib.contextmanager
def _harness() -> Iterator[None]:
    """Errors of work on the archive and reports: bad input (a ``ValueError``, e.g. an unknown run id) stays
    exit code 2; anything else (``IoError``, ``ArchiveError``, ``RunError``) is a harness failure, exit 3."""
    try:
        yield
    except (toron.Error, OSError) as e:
        if isinstance(e, ValueError):
            raise
        raise _Errored(str(e)) from e


#: The core's name of a run option (`Error.field`) and the command-line flag the user typed for it.
_RUN_FLAGS = {
    "suites": "--suite",
    "profile": "--profile",
    "jobs": "--jobs",
    "seed": "--seed",
    "retries": "--retries",
}


@contextlib.contextmanager
def _flags_not_fields() -> Iterator[None]:
    """The core names a bad run option by its field (``suites``); on the command line it is a flag the user
    typed (``--suite``): say that, not "field suites"."""
    try:
        yield
    except toron.Error as e:
        flag = _RUN_FLAGS.get(e.field or "") if isinstance(e, ValueError) and not e.file else None
        if flag is None:
            raise
        raise _Usage(f"option {flag}: {e.message or e}") from e


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="toron",
        description="Toron: deterministic test operations — diff JSON documents, review golden snapshots, "
        "simulate scenarios.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"toron {toron.__version__}")
    commands = p.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    manifest = argparse.ArgumentParser(add_help=False)
    manifest.add_argument(
        "--manifest",
        default="testops.toml",
        metavar="PATH",
        help="the test-operations manifest (default: testops.toml)",
    )
    manifest.add_argument("--profile", default=None, metavar="P", help="run the suites of profile P")
    manifest.add_argument(
        "--suite",
        action="append",
        default=[],
        metavar="S",
        help="run suite S (repeatable; instead of the profile's suites)",
    )
    archive = argparse.ArgumentParser(add_help=False)
    archive.add_argument(
        "--archive", default=".toron", metavar="DIR", help="the run archive (default: .toron)"
    )

    commands.add_parser(
        "serve",
        add_help=False,
        help="serve the TestOps API and the live dashboard (toron serve --help for its flags)",
    )
    commands.add_parser(
        "runner",
        add_help=False,
        help="run runs of a `toron serve --runners 0` server (toron runner --help for its flags)",
    )
    r = commands.add_parser(
        "run",
        parents=[manifest],
        help="run a manifest's suites, write reports, exit by the verdict (0 GO, 1 NO-GO)",
        description="Run the suites of a test-operations manifest (testops.toml): cases in parallel, events "
        "as they happen, reports under <reports>/<run id>/, the gates' verdict. Prints the run id, the "
        "verdict with the failing rules and the report path. Ctrl-C cancels the run and records it.",
        epilog=RUN_SEEDS + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the seed of every case that names none in the manifest, replacing its scenario's seed "
        "(default: SIM_SEED; see 'seeds' below)",
    )
    r.add_argument("--jobs", type=int, default=None, metavar="N", help="cases run in parallel")
    r.add_argument("--retries", type=int, default=None, metavar="N", help="extra attempts after a failure")
    r.add_argument("--check", action="store_true", help="never write golden files (also when CI is set)")
    r.add_argument(
        "--archive",
        default=None,
        metavar="DIR",
        help="the run archive (default: the manifest's project.archive)",
    )
    r.add_argument(
        "--events",
        default=None,
        metavar="PATH",
        help="append each event as a JSON line to PATH (- for stdout; the other output then goes to stderr)",
    )
    r.add_argument(
        "--no-progress",
        action="store_true",
        help="plain lines (one per finished case) instead of the progress bar on a terminal",
    )
    r.set_defaults(run=_cmd_run)

    rs = commands.add_parser(
        "runs",
        parents=[archive],
        help="list the archive's runs, newest first: state, verdict, KPIs",
        description="List the runs of an archive, newest first, with their state (a run whose process died "
        "shows as errored (interrupted)), verdict and key KPIs.",
    )
    rs.add_argument("--json", action="store_true", help="print the runs as a JSON array")
    rs.set_defaults(run=_cmd_runs)

    rp = commands.add_parser(
        "report",
        parents=[archive],
        help="render reports from the archive alone (the newest run, --run-id ID, or --all)",
        description="Render reports (<reports>/<run id>/: report.json, verdict.json, junit.xml, ...) from the "
        "archive alone, without re-running anything. Prints the directories written.",
    )
    which = rp.add_mutually_exclusive_group()
    which.add_argument("--run-id", default=None, metavar="ID", help="the run to render")
    which.add_argument("--all", action="store_true", help="every run of the archive")
    rp.add_argument(
        "--reports", default="reports", metavar="DIR", help="the reports directory (default: reports)"
    )
    rp.set_defaults(run=_cmd_report)

    rl = commands.add_parser(
        "replay",
        parents=[archive],
        help="re-run an archived run's simulations offline and diff them (exit 0 identical, 1 differs)",
        description="Re-run every sim, chaos, load and determinism case of an archived run from the scenario "
        "and seeds stored in the archive (not the working tree) and diff each output against the archived "
        "one. Command cases are listed as not replayed offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rl.add_argument("--run-id", required=True, metavar="ID", help="the run to replay")
    rl.add_argument(
        "--offline",
        action="store_true",
        help="replay from the archive alone (the only replay there is; accepted for the operations guide)",
    )
    rl.set_defaults(run=_cmd_replay)

    t = commands.add_parser(
        "trace",
        help="JSON Lines traces: diff (the first divergent event)",
        description="Work with the JSON Lines traces `toron simulate --trace` writes.",
    )
    trace = t.add_subparsers(dest="action", metavar="ACTION")
    trace.required = True
    td = trace.add_parser(
        "diff",
        help="the first divergent event of two traces (exit 0 identical, 1 different, 2 error)",
        description="Compare two traces event by event (as JSON values) and print the first divergent "
        "event: its index, virtual time and both events.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    td.add_argument("a", metavar="A.jsonl")
    td.add_argument("b", metavar="B.jsonl")
    td.set_defaults(run=_cmd_trace_diff)

    d = commands.add_parser(
        "diff",
        help="structural diff of two JSON files (exit 0 same, 1 different, 2 error)",
        description="Compare two JSON files structurally and print the changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("old", metavar="OLD", help="the old (expected) JSON file")
    d.add_argument("new", metavar="NEW", help="the new (actual) JSON file")
    d.add_argument(
        "--format",
        choices=["text", "color", "html", "json", "patch", "summary"],
        default=None,
        help="rendering: text, color (default on a terminal), html, json; patch prints the RFC 6902 "
        "patch, summary one line",
    )
    d.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="PATH=MEMBER",
        help="match the records of the array at PATH by MEMBER (e.g. /items=id); repeatable",
    )
    d.add_argument("--ignore", action="append", default=[], metavar="PATH", help="ignore differences at PATH")
    d.add_argument(
        "--redact", action="append", default=[], metavar="PATH", help="never show the values at PATH"
    )
    d.add_argument("--tolerance", type=float, default=None, metavar="X", help="absolute number tolerance")
    d.add_argument("--rel-tolerance", type=float, default=None, metavar="R", help="relative number tolerance")
    d.set_defaults(run=_cmd_diff)

    s = commands.add_parser(
        "snapshot",
        help="golden files: list, review, accept, reject pending candidates; refresh a manifest's goldens",
        description="Manage golden files and the pending candidates (<case>.json.new) failed checks leave, "
        "and regenerate a manifest's goldens (refresh).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root = argparse.ArgumentParser(add_help=False)
    root.add_argument(
        "--root", default="snapshots", metavar="DIR", help="the golden-file directory (default: snapshots)"
    )
    snap = s.add_subparsers(dest="action", metavar="ACTION")
    snap.required = True
    sl = snap.add_parser("list", parents=[root], help="list goldens and pending candidates")
    sl.set_defaults(run=_cmd_list)
    sr = snap.add_parser(
        "review", parents=[root], help="show each pending diff and ask accept / reject / skip"
    )
    sr.set_defaults(run=_cmd_review)
    sa = snap.add_parser("accept", parents=[root], help="accept pending candidates (all, or CASE)")
    sa.add_argument("case", nargs="?", metavar="CASE")
    sa.set_defaults(run=_cmd_accept)
    sj = snap.add_parser("reject", parents=[root], help="reject pending candidates (all, or CASE)")
    sj.add_argument("case", nargs="?", metavar="CASE")
    sj.set_defaults(run=_cmd_reject)
    sf = snap.add_parser(
        "refresh",
        parents=[manifest],
        help="regenerate the manifest's missing and changed goldens, showing each change",
        description="Regenerate the goldens of the manifest's golden cases (the profile's, the --suite "
        "ones, or all): missing ones created, changed ones rewritten with their diff shown, unchanged ones "
        "not touched. Exit 1 if a case was skipped because it did not pass.",
    )
    sf.set_defaults(run=_cmd_refresh)

    m = commands.add_parser(
        "simulate",
        help="run a scenario (exit 1 when invariants are violated)",
        description="Simulate a scenario file (TOML, or JSON for .json) and print the outcome.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("scenario", metavar="SCENARIO", help="the scenario file")
    m.add_argument("--seed", type=int, default=None, help="the seed (default: the scenario's, SIM_SEED, 0)")
    m.add_argument("--trace", default=None, metavar="PATH", help="write the full trace as JSON Lines")
    m.add_argument(
        "--history",
        default=None,
        metavar="PATH",
        help="record the load's client operations and write them as a history (Jepsen EDN for .edn, "
        "else JSON), for `toron check-history`",
    )
    m.add_argument("--json", action="store_true", help="print the whole outcome as JSON")
    m.add_argument(
        "--base-dir",
        default=None,
        metavar="DIR",
        help="the directory of the scenario's python: modules and relative c: libraries (default: the "
        "file's; a runner's worker gets the original scenario's)",
    )
    m.set_defaults(run=_cmd_simulate)

    g = commands.add_parser(
        "digest", help="the identity of a JSON file: blake3 of its RFC 8785 canonical bytes"
    )
    g.add_argument("file", metavar="FILE")
    g.add_argument("--canonical", action="store_true", help="print the canonical JSON instead")
    g.set_defaults(run=_cmd_digest)

    # Commands of one concept each live in a module of their own.
    from toron import _cli_check, _cli_fixtures, _cli_protect, _cli_warroom

    for module in (_cli_protect, _cli_fixtures, _cli_warroom, _cli_check):
        module.add_commands(commands)
    return p


def _diff_options(args: argparse.Namespace) -> dict[str, Any]:
    keys: dict[str, str] = {}
    for item in args.key:
        path, sep, member = item.rpartition("=")
        if not sep or not member:
            raise _Usage(f"--key {item!r}: expected PATH=MEMBER, e.g. --key /items=id")
        keys[path] = member
    tolerance: dict[str, float] | None = None
    if args.tolerance is not None or args.rel_tolerance is not None:
        tolerance = {}
        if args.tolerance is not None:
            tolerance["abs"] = args.tolerance
        if args.rel_tolerance is not None:
            tolerance["rel"] = args.rel_tolerance
    return {
        "keys": keys or None,
        "ignore": args.ignore or None,
        "redact": args.redact or None,
        "tolerance": tolerance,
    }


def _default_format(out: TextIO) -> _Format:
    return "color" if out.isatty() else "text"


def _cmd_diff(args: argparse.Namespace) -> int:
    options = _diff_options(args)
    old = toron.read_json(args.old)
    new = toron.read_json(args.new)
    d = toron.diff(old, new, **options)
    fmt = args.format or _default_format(sys.stdout)
    if fmt == "patch":
        print(toron.pretty(d.patch), end="")
    elif fmt == "summary":
        print(d.summary())
    else:
        print(d.render(cast(_Format, fmt)))
    return EXIT_DIFFERENT if d else EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    snaps = toron.Snapshots(args.root, update=False)
    cases = snaps.cases()
    pending = set(snaps.pending_cases())
    if not cases and not pending:
        print(f"no golden files under {args.root}")
        return EXIT_OK
    for case in sorted(set(cases) | pending):
        if case in pending:
            state = "pending (new)" if case not in cases else "pending"
        else:
            state = "ok"
        print(f"{case}\t{state}")
    print(f"{len(cases)} golden, {len(pending)} pending")
    return EXIT_OK


def _ask(prompt: str) -> str | None:
    """One answer from stdin: a, r or s (None at end of input)."""
    while True:
        print(prompt, end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            print()
            return None
        answer = line.strip().lower()
        if answer in ("a", "accept", "y", "yes"):
            return "a"
        if answer in ("r", "reject", "n", "no"):
            return "r"
        if answer in ("s", "skip", ""):
            return "s"
        print("  please answer a (accept), r (reject) or s (skip)")


def _cmd_review(args: argparse.Namespace) -> int:
    snaps = toron.Snapshots(args.root, update=False)
    pending = snaps.pending()
    if not pending:
        print(f"no pending snapshots under {args.root}")
        return EXIT_OK
    if not sys.stdin.isatty():
        print(
            f"toron snapshot review: stdin is not an interactive terminal; {len(pending)} pending under "
            f"{args.root}. Use `toron snapshot accept [CASE]` or `toron snapshot reject [CASE]` instead.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    fmt = _default_format(sys.stdout)
    accepted = rejected = skipped = 0
    for i, p in enumerate(pending, 1):
        title = "new golden" if p.golden is None else "changed"
        print(f"\n[{i}/{len(pending)}] {p.case}: {title} ({p.diff.summary()})")
        print(f"  golden: {p.golden_path}\n  candidate: {p.new_path}")
        print(p.diff.render(fmt))
        answer = _ask("accept, reject or skip? [a/r/s] ")
        if answer is None:
            skipped += len(pending) - i + 1
            break
        if answer == "a":
            snaps.accept(p.case)
            accepted += 1
            print(f"  accepted {p.case}")
        elif answer == "r":
            snaps.reject(p.case)
            rejected += 1
            print(f"  rejected {p.case}")
        else:
            skipped += 1
            print(f"  skipped {p.case}")
    print(f"\n{accepted} accepted, {rejected} rejected, {skipped} skipped")
    return EXIT_DIFFERENT if skipped else EXIT_OK


def _cmd_accept(args: argparse.Namespace) -> int:
    done = toron.Snapshots(args.root, update=False).accept(args.case)
    for case in done:
        print(f"accepted {case}")
    if not done:
        print(f"no pending snapshots under {args.root}")
    return EXIT_OK


def _cmd_reject(args: argparse.Namespace) -> int:
    done = toron.Snapshots(args.root, update=False).reject(args.case)
    for case in done:
        print(f"rejected {case}")
    if not done:
        print(f"no pending snapshots under {args.root}")
    return EXIT_OK


def _cmd_simulate(args: argparse.Namespace) -> int:
    scenario = toron.Scenario.from_file(args.scenario, base_dir=args.base_dir)
    outcome = toron.simulate(scenario, seed=args.seed, trace=args.trace, history=args.history is not None)
    if args.history is not None:
        if outcome.history is None:
            raise _Usage(f"{args.scenario}: the scenario has no [load]: there is no history to write")
        fmt = "edn" if args.history.endswith(".edn") else "json"
        Path(args.history).write_text(outcome.history_text(fmt))
    if args.json:
        print(outcome.to_json())
    else:
        print(outcome.summary())
        print(f"digest {outcome.digest}")
        for v in outcome.violations:
            print(f"violation at {v['time']}s on {v['node']}: {v['invariant']}: {v['message']}")
    return EXIT_DIFFERENT if outcome.violations else EXIT_OK


def _cmd_digest(args: argparse.Namespace) -> int:
    value = toron.read_json(args.file)
    if args.canonical:
        sys.stdout.buffer.write(toron.canonical(value) + b"\n")
    else:
        print(toron.digest(value))
    return EXIT_OK


# --- runs ------------------------------------------------------------------------------------------------


def _exit_for(result: toron.RunResult) -> int:
    """The exit code a run's end maps to: 0 GO, 1 NO-GO, 3 errored, 130 cancelled."""
    if result.state == "passed":
        return EXIT_OK
    if result.state == "failed":
        return EXIT_NO_GO
    if result.state == "cancelled":
        return EXIT_INTERRUPTED
    return EXIT_ERRORED


def _print_result(result: toron.RunResult, out: TextIO) -> None:
    count = result.case_count
    cases = f"{count} case" if count == 1 else f"{count} cases"
    print(f"run {result.id}: {result.state} ({cases}, {result.duration:.2f}s)", file=out)
    if result.error:
        print(f"error: {result.error}", file=out)
    print(f"verdict: {result.verdict}", file=out)
    for rule in result.rules:
        if rule["status"] == "failed":
            label = "failed" if rule["severity"] == "block" else "warning"
            print(f"  {label}: {rule['rule']}: {rule['explanation']}", file=out)
        elif rule["status"] == "not_evaluated" and rule.get("baseline_run"):
            # A baseline rule with nothing to compare with: not a failure, but not silently passed either.
            print(f"  not evaluated: {rule['rule']}: {rule['explanation']}", file=out)
    if result.report_dir:
        print(f"report: {result.report_dir}", file=out)
    out.flush()


def _cmd_run(args: argparse.Namespace) -> int:
    manifest = toron.Manifest.from_file(args.manifest)
    human = sys.stderr if args.events == "-" else sys.stdout
    with contextlib.ExitStack() as stack:
        sink: TextIO | None = None
        if args.events == "-":
            sink = sys.stdout
        elif args.events is not None:
            sink = stack.enter_context(open(args.events, "a", encoding="utf-8"))
        with _harness(), _flags_not_fields():
            run = toron.start_run(
                manifest,
                args.profile,
                seed=args.seed,
                jobs=args.jobs,
                retries=args.retries,
                suites=args.suite or None,
                check=args.check,
                # Relative to where the command runs (the core would resolve it against the manifest's directory).
                archive=os.path.abspath(args.archive) if args.archive else None,
            )
        print(f"run {run.id} started", file=human, flush=True)
        # The progress and the events are rendered and written from Rust, a batch at a time: a Python loop
        # over the events would cost more per case than the runner itself.
        bar = sys.stderr.isatty() and not args.no_progress
        width = shutil.get_terminal_size((80, 24)).columns
        try:
            run.follow(sys.stderr, sink, bar=bar, width=width)
        except KeyboardInterrupt:
            print(f"toron: interrupted: cancelling run {run.id}", file=sys.stderr, flush=True)
            run.cancel()
            # The rest of the events (cancelled cases, run.finished) still go to the events file.
            run.follow(events=sink, after=run.followed)
            result = run.wait()
            _print_result(result, human)
            return EXIT_INTERRUPTED
        result = run.wait()
    _print_result(result, human)
    return _exit_for(result)


def _percent(value: object) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, (int, float)) else "-"


def _run_summary(r: toron.RunResult) -> dict[str, Any]:
    """What `toron runs --json` prints of a run (its cases and attempts are in report.json)."""
    return {
        "id": r.id,
        "state": r.state,
        "error": r.error,
        "verdict": r.verdict,
        "profile": r.profile,
        "suites": r.suites,
        "seed": r.seed,
        "seed_source": r.seed_source,
        "started": r.started,
        "duration": r.duration,
        "cases": r.case_count,
        "kpis": r.kpis.get("run", {}),
        "report_dir": r.report_dir,
    }


def _cmd_runs(args: argparse.Namespace) -> int:
    with _harness():
        runs = toron.runs(args.archive)
    if args.json:
        print(json.dumps([_run_summary(r) for r in runs], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not runs:
        print(f"no runs in {args.archive}")
        return EXIT_OK
    rows = [("RUN", "STATE", "VERDICT", "PASS RATE", "DETERMINISM", "COVERAGE", "DURATION")]
    for r in runs:
        kpis = r.kpis.get("run", {})
        state = f"{r.state} ({r.error})" if r.state == "errored" and r.error else r.state
        duration = kpis.get("duration", r.duration)
        rows.append(
            (
                r.id,
                state,
                r.verdict,
                _percent(kpis.get("pass_rate")),
                _percent(kpis.get("determinism")),
                _percent(kpis.get("coverage")),
                f"{duration:.2f}s" if r.state not in ("scheduled", "running") and duration else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    run_id: str | None = args.run_id
    if run_id is None and not args.all:
        with _harness():
            runs = toron.runs(args.archive)
        if not runs:
            raise _Usage(f"no runs in the archive {args.archive} (nothing to report)")
        run_id = runs[0].id
    with _harness():
        dirs = toron.report(args.archive, args.reports, run_id)
    for d in dirs:
        print(d)
    index = Path(args.reports) / "index.html"
    if index.exists():
        print(index)
    return EXIT_OK


def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line for line in text.splitlines(keepends=True)).rstrip("\n")


def _cmd_replay(args: argparse.Namespace) -> int:
    with _harness():
        result = toron.replay(args.run_id, offline=True, archive=args.archive)
    for case in result.cases:
        status, name = case["status"], case["case"]
        if status == "identical":
            seeds = ", ".join(str(s) for s in case["seeds"])
            print(f"identical     {name}" + (f" (seeds {seeds})" if seeds else ""))
        elif status == "differs":
            print(f"differs       {name}: {case['message']}")
            if case["text"]:
                print(_indent(case["text"]))
        elif status == "not_replayed":
            print(f"not replayed  {name}: {case['message'] or 'not replayed offline'}")
        else:
            print(f"errored       {name}: {case['message']}")
    print(f"replay of {result.run}: {'identical' if result.identical else 'differs'}")
    return EXIT_OK if result.identical else EXIT_DIFFERENT


def _cmd_refresh(args: argparse.Namespace) -> int:
    manifest = toron.Manifest.from_file(args.manifest)
    result = toron.refresh_snapshots(manifest, args.profile, suites=args.suite or None)
    for entry in result.entries:
        status, case = entry["status"], entry["case"]
        if status in ("created", "changed"):
            print(f"{status} {case}: {entry['message']}")
            if entry["text"]:
                print(_indent(entry["text"]))
        elif status == "skipped":
            print(f"skipped {case}: {entry['message']}")
    print(result.summary())
    return EXIT_DIFFERENT if result.count("skipped") else EXIT_OK


def _event_line(event: object) -> str:
    return "(the trace ended)" if event is None else json.dumps(event, ensure_ascii=False)


def _cmd_trace_diff(args: argparse.Namespace) -> int:
    found = toron.first_divergence(Path(args.a), Path(args.b))
    if found is None:
        print("the traces are identical")
        return EXIT_OK
    time = found["time"]
    at = f"virtual time {time} ns ({time / 1e9:.9f} s)" if time is not None else "no virtual time"
    print(f"the traces differ at event {found['index']} ({at})")
    print(f"  A: {_event_line(found['a'])}")
    print(f"  B: {_event_line(found['b'])}")
    return EXIT_DIFFERENT


def _fail(message: str) -> NoReturn:
    print(f"toron: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_ERROR)


def _default_worker() -> None:
    """Determinism cases with ``processes > 1`` simulate in separate processes through a worker command:
    this Python's ``-m toron``, unless ``TORON_WORKER`` names another (for ``run``, ``replay`` and
    ``snapshot refresh`` alike; set before any run starts a thread)."""
    if sys.executable and "TORON_WORKER" not in os.environ:
        os.environ["TORON_WORKER"] = json.dumps([sys.executable, "-m", "toron"])


def _serve(argv: list[str]) -> int:
    """``toron serve``: toron-server's own command line (one parser for both), in this process, with this
    Python as the worker of determinism cases that simulate in separate processes."""
    _default_worker()
    try:
        return _toron._serve(["toron", "serve", *argv])
    except KeyboardInterrupt:
        print("toron: interrupted: the server stopped", file=sys.stderr)
        return EXIT_INTERRUPTED


def _runner(argv: list[str]) -> int:
    """``toron runner``: a remote runner of a ``toron serve --runners 0``, toron-server's own command line
    (one parser for both), in this process, with this Python as the worker of determinism cases."""
    _default_worker()
    try:
        return _toron._serve(["toron", "runner", *argv])
    except KeyboardInterrupt:
        print("toron: interrupted: the runner stopped", file=sys.stderr)
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the ``toron`` script exits with it)."""
    rest = list(sys.argv[1:] if argv is None else argv)
    if rest[:1] == ["serve"]:
        return _serve(rest[1:])
    if rest[:1] == ["runner"]:
        return _runner(rest[1:])
    args = _parser().parse_args(argv)
    if args.command in ("run", "replay", "snapshot"):
        _default_worker()
    try:
        code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        print("toron: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `toron diff a b | head`: the reader went away; not an error of ours.
        return EXIT_OK
    except _Errored as e:
        print(f"toron: error: {e}", file=sys.stderr)
        return EXIT_ERRORED
    except (toron.Error, _Usage, OSError) as e:
        _fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
