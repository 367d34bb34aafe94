"""The ``toron`` command line (also ``python -m toron``).

Commands: ``toron diff OLD NEW``, ``toron snapshot list|review|accept|reject``, ``toron simulate SCENARIO``,
``toron digest FILE``. Exit codes: 0 success (same), 1 difference found (or pending left, violations found),
2 error (bad input, unreadable file, non-interactive review), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, Literal, NoReturn, TextIO, cast

import toron

#: Exit codes (also listed by ``toron --help``).
EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

EPILOG = """\
exit codes:
  0  success: the documents are the same, the command did what it was asked
  1  a difference: `diff` found one, `simulate` found invariant violations,
     `snapshot review` left candidates pending
  2  an error: unreadable or invalid input (named with file, line and column),
     a bad option, `snapshot review` without an interactive terminal
  130 interrupted (Ctrl-C)
"""


_Format = Literal["text", "color", "html", "json"]


class _Usage(Exception):
    """A mistake in the command line that argparse cannot see (reported with exit code 2)."""


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
        help="golden files: list, review, accept, reject pending candidates",
        description="Manage golden files and the pending candidates (<case>.json.new) failed checks leave.",
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
    m.add_argument("--json", action="store_true", help="print the whole outcome as JSON")
    m.set_defaults(run=_cmd_simulate)

    g = commands.add_parser(
        "digest", help="the identity of a JSON file: blake3 of its RFC 8785 canonical bytes"
    )
    g.add_argument("file", metavar="FILE")
    g.add_argument("--canonical", action="store_true", help="print the canonical JSON instead")
    g.set_defaults(run=_cmd_digest)
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
    scenario = toron.Scenario.from_file(args.scenario)
    outcome = toron.simulate(scenario, seed=args.seed, trace=args.trace)
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


def _fail(message: str) -> NoReturn:
    print(f"toron: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the ``toron`` script exits with it)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except KeyboardInterrupt:
        print("toron: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `toron diff a b | head`: the reader went away; not an error of ours.
        return EXIT_OK
    except (toron.Error, _Usage, OSError) as e:
        _fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
