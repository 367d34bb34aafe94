"""``toron`` commands of the warroom: ``incident open|list|show|note|mitigate|resolve|reopen``,
``rollback CASE... --to RUN_ID`` and ``postmortem ID``.

Every command takes ``--warroom DIR`` (default ``warroom``) and ``--archive DIR`` (default ``.toron``);
``--json`` prints the core's JSON form instead of text. Bad input (an unknown incident or run id, a status
change not allowed, a rollback of a case with no archived output) exits 2 with the error's message.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import toron


def _common(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    p.add_argument(
        "--warroom", default="warroom", metavar="DIR", help="the warroom directory (default: warroom)"
    )
    p.add_argument("--archive", default=".toron", metavar="DIR", help="the run archive (default: .toron)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _warroom(args: argparse.Namespace) -> toron.Warroom:
    return toron.Warroom(
        args.warroom,
        archive=args.archive,
        snapshots=getattr(args, "snapshots", "snapshots"),
        reports=getattr(args, "reports", "reports"),
    )


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _line(inc: dict[str, Any]) -> str:
    return f"{inc['id']}  {inc['status']:<9}  {inc['severity']}  {len(inc['runs'])} run(s)  {inc['title']}"


def _show(inc: dict[str, Any]) -> None:
    print(f"{inc['id']}: {inc['title']}")
    print(f"  status {inc['status']}, severity {inc['severity']}, owner {inc['owner'] or '-'}")
    print(f"  profile {inc['profile'] or '-'}, opened {inc['opened_at']}, runs: {', '.join(inc['runs'])}")
    print(f"  dedup key: {inc['dedup_key']}")
    if inc["labels"]:
        print(f"  labels: {', '.join(inc['labels'])}")
    if inc["rules"]:
        print("  failing rules:")
        for r in inc["rules"]:
            scope = f" [{r['scope']}]" if r["scope"] else ""
            print(f"    {r['rule']}{scope}: {r['sentence']}")
    if inc["cases"]:
        print("  cases:")
        for c in inc["cases"]:
            message = f": {c['message']}" if c["message"] else ""
            print(f"    {c['case']} {c['outcome']}{message}")
    print("  timeline:")
    for e in inc["timeline"]:
        print(f"    {e['seq']:>3}  {e['when']}  {e['who']}  {e['what']}: {e['text']}")


def _cmd_open(args: argparse.Namespace) -> int:
    from toron import cli

    inc = _warroom(args).open_incident(
        args.run_id,
        args.dedup_key,
        args.severity,
        title=args.title,
        owner=args.owner,
        labels=args.label or None,
        who=args.who,
    )
    if args.json:
        _print_json(inc)
    elif inc["created"]:
        print(f"{inc['id']} opened ({inc['severity']}): {inc['title']}")
    else:
        print(f"{inc['id']} ({inc['status']}): run {inc['runs'][-1]} linked; {len(inc['runs'])} run(s) now")
    return cli.EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    from toron import cli

    incidents = _warroom(args).incidents(args.status)
    if args.json:
        _print_json(incidents)
    elif not incidents:
        print("no incidents")
    else:
        for inc in incidents:
            print(_line(inc))
    return cli.EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from toron import cli

    inc = _warroom(args).incident(args.id)
    if args.json:
        _print_json(inc)
    else:
        _show(inc)
    return cli.EXIT_OK


def _cmd_note(args: argparse.Namespace) -> int:
    from toron import cli

    inc = _warroom(args).note(args.id, args.text, who=args.who)
    if args.json:
        _print_json(inc)
    else:
        print(f"{inc['id']}: note {inc['timeline'][-1]['seq']} added")
    return cli.EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from toron import cli

    w = _warroom(args)
    change = {"mitigate": w.mitigate, "resolve": w.resolve, "reopen": w.reopen}[args.action]
    inc = change(args.id, who=args.who, note=args.note)
    if args.json:
        _print_json(inc)
    else:
        print(f"{inc['id']}: {inc['timeline'][-1]['text']}")
    return cli.EXIT_OK


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _cmd_rollback(args: argparse.Namespace) -> int:
    from toron import cli

    if not args.cases and not args.all_failed:
        cli._fail("rollback: name at least one CASE (suite/case) or --all-failed RUN_ID")
    done = _warroom(args).rollback(
        args.cases,
        args.to,
        args.incident,
        args.dry_run,
        all_failed=args.all_failed,
        who=args.who,
        from_case=args.from_case,
    )
    if args.json:
        _print_json(done)
        return cli.EXIT_OK
    for r in done:
        before = (r["from"] or "none")[:12]
        verb = "would roll back" if r["dry_run"] else "rolled back"
        of = f"{r['source_case']} of " if r.get("source_case") else ""
        print(
            f"{r['case']}: {verb} to {of}run {r['source_run']} ({before} -> {r['to'][:12]}): {r['summary']}"
        )
        if r["diff"].strip():
            print(_indent(r["diff"].rstrip("\n")))
    if args.dry_run:
        print("dry run: nothing written", file=sys.stderr)
    return cli.EXIT_OK


def _cmd_postmortem(args: argparse.Namespace) -> int:
    from toron import cli

    print(_warroom(args).postmortem(args.id))
    return cli.EXIT_OK


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's commands to the ``toron`` parser."""
    inc = commands.add_parser("incident", help="incidents of failing gates: open, list, show, note, status")
    sub = inc.add_subparsers(dest="incident_command", metavar="ACTION", required=True)

    o = sub.add_parser("open", help="open an incident for a NO-GO run (default: the newest), or join one")
    _common(o)
    o.add_argument("--run-id", default=None, metavar="ID", help="the NO-GO run (default: the newest)")
    o.add_argument("--dedup-key", default=None, metavar="K", help="runs with this key join one incident")
    o.add_argument(
        "--severity", default=None, choices=["sev1", "sev2", "sev3", "sev4"], help="default: from the rules"
    )
    o.add_argument("--title", default=None, metavar="T")
    o.add_argument("--owner", default=None, metavar="WHO")
    o.add_argument("--label", action="append", default=[], metavar="L", help="a label (repeatable)")
    o.add_argument("--who", default=None, help="who opens it (default: $USER)")
    o.set_defaults(run=_cmd_open)

    ls = sub.add_parser("list", help="list incidents")
    _common(ls)
    ls.add_argument("--status", default=None, choices=["open", "mitigated", "resolved", "reopened"])
    ls.set_defaults(run=_cmd_list)

    sh = sub.add_parser("show", help="one incident with its rules, cases and timeline")
    _common(sh)
    sh.add_argument("id", metavar="ID")
    sh.set_defaults(run=_cmd_show)

    n = sub.add_parser("note", help="add a note to an incident's timeline")
    _common(n)
    n.add_argument("id", metavar="ID")
    n.add_argument("text", metavar="TEXT")
    n.add_argument("--who", default=None, help="default: $USER")
    n.set_defaults(run=_cmd_note)

    for action, words in (
        ("mitigate", "mark an incident mitigated"),
        ("resolve", "mark an incident resolved"),
        ("reopen", "reopen a mitigated or resolved incident"),
    ):
        s = sub.add_parser(action, help=words)
        _common(s)
        s.add_argument("id", metavar="ID")
        s.add_argument("--note", default=None, metavar="TEXT")
        s.add_argument("--who", default=None, help="default: $USER")
        s.set_defaults(run=_cmd_status, action=action)

    r = commands.add_parser(
        "rollback", help="re-point goldens to the outputs an earlier run archived, printing each diff"
    )
    r.add_argument("cases", nargs="*", metavar="CASE", help="suite/case")
    r.add_argument("--to", required=True, metavar="RUN_ID", help="the run whose archived outputs to use")
    r.add_argument(
        "--all-failed", default=None, metavar="RUN_ID", help="also every failed golden case of this run"
    )
    r.add_argument(
        "--from",
        dest="from_case",
        default=None,
        metavar="CASE",
        help="for one CASE: take the output of this other case of RUN_ID (a renamed case, or another profile's)",
    )
    r.add_argument("--incident", default=None, metavar="ID", help="record the rollback in this incident")
    r.add_argument("--dry-run", action="store_true", help="show the diffs, write nothing")
    r.add_argument(
        "--snapshots", default="snapshots", metavar="DIR", help="golden files (default: snapshots)"
    )
    r.add_argument("--who", default=None, help="default: $USER")
    _common(r)
    r.set_defaults(run=_cmd_rollback)

    pm = commands.add_parser(
        "postmortem", help="write an incident's postmortem (Markdown and HTML), print its path"
    )
    pm.add_argument("id", metavar="ID")
    pm.add_argument("--reports", default="reports", metavar="DIR", help="the reports (default: reports)")
    _common(pm, json_flag=False)
    pm.set_defaults(run=_cmd_postmortem)
