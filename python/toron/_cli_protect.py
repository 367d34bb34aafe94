"""``toron scrub``, ``toron scan`` and ``toron quarantine``: the PII scrubber on the command line.

``toron scrub [FILE|-]`` writes the scrubbed text (``--json``: the scrubbed JSON document) to stdout and a
summary of the findings to stderr; ``toron scan [FILE|-]`` prints one finding per line
(``kind line:col placeholder``, or ``--format json``). Both stream the file through the core in bounded
memory. Exit codes (those of ``toron.cli``): 0 nothing found, 1 something found (with ``--strict`` or
``PII_STRICT=1`` nothing is written to stdout), 2 bad input (an unreadable file, an unknown kind, not JSON
with ``--json``). ``toron quarantine list | release ID | purge ID`` manage ``<archive>/quarantine``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

#: Where ``--log`` without a path writes.
DEFAULT_LOG = "logs/pii_scrubber.log"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands to the ``toron`` parser."""
    s = commands.add_parser(
        "scrub",
        help="replace PII and secrets in a file by stable placeholders (exit 1 when something was found)",
    )
    _common(s)
    s.add_argument(
        "--strict",
        action="store_true",
        help="write nothing and fail when anything is found (also PII_STRICT=1)",
    )
    s.add_argument(
        "--log",
        nargs="?",
        const=DEFAULT_LOG,
        default=None,
        metavar="PATH",
        help=f"append a line per finding (kind, location, placeholder; never the value) to PATH (default {DEFAULT_LOG})",
    )
    s.set_defaults(run=_cmd_scrub)

    c = commands.add_parser(
        "scan", help="list the PII and secrets in a file (exit 1 when something was found)"
    )
    _common(c)
    c.add_argument(
        "--format", choices=["text", "json"], default="text", help="one finding per line, or a JSON array"
    )
    c.set_defaults(run=_cmd_scan)

    q = commands.add_parser("quarantine", help="artifacts that strict mode refused")
    qs = q.add_subparsers(dest="quarantine_command", metavar="COMMAND", required=True)
    ql = qs.add_parser("list", help="list the quarantined artifacts")
    _archive(ql)
    ql.add_argument("--json", action="store_true", help="print them as a JSON array")
    ql.set_defaults(run=_cmd_quarantine_list)
    qr = qs.add_parser("release", help="move a quarantined artifact out")
    qr.add_argument("id", metavar="ID")
    qr.add_argument("--to", default=".", metavar="PATH", help="a directory or a file path (default: .)")
    _archive(qr)
    qr.set_defaults(run=_cmd_quarantine_release)
    qp = qs.add_parser("purge", help="delete a quarantined artifact")
    qp.add_argument("id", metavar="ID")
    _archive(qp)
    qp.set_defaults(run=_cmd_quarantine_purge)


def _archive(p: argparse.ArgumentParser) -> None:
    p.add_argument("--archive", default=".toron", metavar="DIR", help="the run archive (default: .toron)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file", nargs="?", default="-", metavar="FILE", help="the file (default or -: standard input)"
    )
    p.add_argument(
        "--json", action="store_true", help="read the input as one JSON document (keys give context)"
    )
    p.add_argument("--kinds", default=None, metavar="K1,K2", help="the kinds to look for (default: all)")
    p.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PAT",
        help="a glob of test values to let through (repeatable)",
    )
    p.add_argument(
        "--key-env",
        default=None,
        metavar="VAR",
        help="the environment variable holding the key (default: TORON_PII_KEY)",
    )
    _archive(p)


def _strict(args: argparse.Namespace) -> bool:
    env = os.environ.get("PII_STRICT", "").strip().lower()
    return bool(getattr(args, "strict", False)) or env in ("1", "true", "yes")


def _kinds(args: argparse.Namespace) -> list[str] | None:
    if args.kinds is None:
        return None
    return [k.strip() for k in args.kinds.split(",") if k.strip()]


#: How many findings `toron scrub` keeps to name in its message (it only summarises the rest).
_NAMED = 10


def _run(
    args: argparse.Namespace, out: str | None, strict: bool, log: str | None, limit: int | None
) -> tuple[list[Any], int, dict[str, int]]:
    import toron._toron as native

    if args.file != "-" and not Path(args.file).is_file():
        from toron.cli import _fail

        _fail(f"{args.file}: cannot read the file (no such file)")
    # What Python printed so far goes first; the core writes to the same descriptor.
    sys.stdout.flush()
    return native._scrub_file(
        args.file,
        out,
        kinds=_kinds(args),
        allow=args.allow or None,
        key_env=args.key_env,
        archive=args.archive,
        log=log,
        strict=strict,
        json=args.json,
        limit=limit,
    )


def _summary(total: int, kinds: dict[str, int]) -> str:
    if not total:
        return "no findings"
    parts = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    return f"{total} finding{'s' if total != 1 else ''}: {parts}"


def _strict_message(findings: list[Any], total: int) -> str:
    shown = [f"{f.kind} at {f.location}" for f in findings[:_NAMED]]
    if total > len(shown):
        shown.append(f"and {total - len(shown)} more")
    return f"strict mode: {total} finding{'s' if total != 1 else ''}: {', '.join(shown)} (nothing written)"


def _cmd_scrub(args: argparse.Namespace) -> int:
    from toron.cli import EXIT_DIFFERENT, EXIT_OK

    strict = _strict(args)
    findings, total, kinds = _run(args, None, strict, args.log, _NAMED)
    if strict and total:
        print(f"toron: error: {_strict_message(findings, total)}", file=sys.stderr)
        return EXIT_DIFFERENT
    print(f"toron: {_summary(total, kinds)}", file=sys.stderr)
    return EXIT_DIFFERENT if total else EXIT_OK


def _cmd_scan(args: argparse.Namespace) -> int:
    from toron.cli import EXIT_DIFFERENT, EXIT_OK

    findings, _, _ = _run(args, os.devnull, False, None, None)
    if args.format == "json":
        print(json.dumps([f.to_dict() for f in findings], indent=1))
    else:
        for f in findings:
            print(f"{f.kind} {f.location} {f.placeholder}")
    return EXIT_DIFFERENT if findings else EXIT_OK


def _root(args: argparse.Namespace) -> str:
    return str(Path(args.archive) / "quarantine")


def _cmd_quarantine_list(args: argparse.Namespace) -> int:
    import toron._toron as native
    from toron.cli import EXIT_OK

    entries = native._quarantine_list(_root(args))
    if args.json:
        print(json.dumps(entries, indent=1))
    elif not entries:
        print("quarantine is empty")
    else:
        for e in entries:
            kinds = ",".join(e["kinds"])
            print(f"{e['id']}  {e['run']}  {e['case']}  {e['artifact']}  {kinds}  {e['size']} bytes")
    return EXIT_OK


def _cmd_quarantine_release(args: argparse.Namespace) -> int:
    import toron._toron as native
    from toron.cli import EXIT_OK

    dest = native._quarantine_release(_root(args), args.id, args.to)
    print(f"released {args.id} to {dest}")
    return EXIT_OK


def _cmd_quarantine_purge(args: argparse.Namespace) -> int:
    import toron._toron as native
    from toron.cli import EXIT_OK

    native._quarantine_purge(_root(args), args.id)
    print(f"purged {args.id}")
    return EXIT_OK
