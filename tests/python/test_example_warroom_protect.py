"""The shipped example project's warroom and scrubber, on a temporary copy of `examples/testops/`.

Issue 15: the `broken` profile's NO-GO opens one incident naming its failing rules and the cases behind them; a
second `broken` run joins it; a rollback of the mismatched golden to the `full` run's output (of the same
queue, case sim/queue there) makes that case pass in the next `broken` run; `toron postmortem` writes the Markdown postmortem with the timeline, the rules and the rollback — from the
CLI and from Python.

Issue 11: the `protect` profile's signup case prints an e-mail address and a card number: the archive, the
golden candidate, report.json, index.html, junit.xml and events hold only placeholders and
`logs/pii_scrubber.log` lists the findings without the values; with PII_STRICT=1 the case fails, the artifacts
are in the quarantine (0600) and nowhere else, and `pii == 0` gates NO-GO.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the example's cases run POSIX tools")

TORON = Path(sys.executable).parent / "toron"
IGNORE = shutil.ignore_patterns(
    ".toron",
    "reports",
    "warroom",
    "logs",
    "coverage*.xml",
    ".coverage*",
    "__pycache__",
    "*.new",
    "signup-out.json",
)
EMAIL = "jane.roe@corp-mail.com"
CARD = "4242 4242 4242 4242"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "testops"
    shutil.copytree(REPO / "examples" / "testops", dest, ignore=IGNORE)
    return dest


def cli(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = child_env()
    # The project's unit suite runs `python -m pytest`: this interpreter's environment has pytest.
    full["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full.get('PATH', '')}"
    full.pop("PII_STRICT", None)
    full.update(env or {})
    return subprocess.run(
        [str(TORON), *args], cwd=project, env=full, capture_output=True, text=True, timeout=600, check=False
    )


def run_id_of(out: subprocess.CompletedProcess[str]) -> str:
    return next(w for w in out.stdout.split() if w.startswith("run-")).rstrip(":")


def test_issue_15_broken_runs_open_join_roll_back_and_write_a_postmortem(project: Path) -> None:
    full = cli(project, "run", "--profile", "full", "--no-progress")
    assert full.returncode == 0, full.stdout + full.stderr
    full_id = run_id_of(full)
    first = cli(project, "run", "--profile", "broken", "--no-progress")
    assert first.returncode == 1, first.stdout + first.stderr
    first_id = run_id_of(first)
    listed = json.loads(cli(project, "incident", "list", "--json").stdout)
    assert [i["id"] for i in listed] == ["INC-1"]
    incident = listed[0]
    rules = {r["rule"] for r in incident["rules"]}
    assert {"coverage >= 90%", "failed == 0"} <= rules, rules
    cases = {c["case"] for c in incident["cases"]}
    assert {"sim-drifted/queue", "chaos-unguarded/kv-bug", "unit-partial/backend"} <= cases, cases
    drifted = next(c for c in incident["cases"] if c["case"] == "sim-drifted/queue")
    assert drifted["golden"]["status"] == "failed"
    kv = next(c for c in incident["cases"] if c["case"] == "chaos-unguarded/kv-bug")
    assert kv["violations"], kv

    # A second NO-GO with the same failing rules joins the open incident.
    second = cli(project, "run", "--profile", "broken", "--no-progress")
    assert second.returncode == 1
    assert "INC-1" in (project / "reports" / run_id_of(second) / "index.html").read_text()
    shown = json.loads(cli(project, "incident", "show", "INC-1", "--json").stdout)
    assert len(json.loads(cli(project, "incident", "list", "--json").stdout)) == 1
    assert [r for r in shown["runs"]] == [first_id, run_id_of(second)]

    # Roll the wrongly refreshed golden back to the `full` run's output of the same queue (its case there is
    # sim/queue): the next broken run passes it. Without --from the run has no output of that case: exit 2.
    refused = cli(project, "rollback", "sim-drifted/queue", "--to", full_id)
    assert refused.returncode == 2 and "`--from`" in refused.stderr, refused.stdout + refused.stderr
    assert 'archived no output for case "sim-drifted/queue"' in refused.stderr, refused.stderr
    rollback = cli(
        project,
        "rollback",
        "sim-drifted/queue",
        "--to",
        full_id,
        "--from",
        "sim/queue",
        "--incident",
        "INC-1",
    )
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert f"rolled back to sim/queue of run {full_id}" in rollback.stdout, rollback.stdout
    third = cli(project, "run", "--profile", "broken", "--no-progress")
    assert third.returncode == 1, third.stdout + third.stderr
    report = json.loads((project / "reports" / run_id_of(third) / "report.json").read_text())
    outcomes = {f"{c['suite']}/{c['name']}": c["outcome"] for c in report["cases"]}
    assert outcomes["sim-drifted/queue"] == "passed", outcomes

    pm = cli(project, "postmortem", "INC-1")
    assert pm.returncode == 0, pm.stderr
    md = (project / "warroom" / "postmortems" / "INC-1.md").read_text()
    for part in ["Timeline", "coverage >= 90%", "failed == 0", "sim-drifted/queue", "Root cause", "rollback"]:
        assert part.lower() in md.lower(), part
    assert full_id in md, "the postmortem names the run the golden was rolled back to"
    assert (project / "warroom" / "postmortems" / "INC-1.html").is_file()

    # Bad input: a named error, exit 2.
    bad = cli(project, "incident", "show", "INC-99")
    assert bad.returncode == 2 and "INC-99" in bad.stderr and "Traceback" not in bad.stderr


def test_issue_15_the_same_from_python(project: Path) -> None:
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    manifest = toron.Manifest.from_file(project / "testops.toml")
    full = toron.run(manifest, profile="full")
    assert full.verdict == "GO"
    first = toron.run(manifest, profile="broken")
    second = toron.run(manifest, profile="broken")
    assert (first.verdict, second.verdict) == ("NO-GO", "NO-GO")
    assert first.incident == {"id": "INC-1", "created": True, "severity": "sev2"}
    assert second.incident is not None and second.incident["created"] is False
    w = toron.Warroom(
        project / "warroom",
        archive=project / ".toron",
        snapshots=project / "snapshots",
        reports=project / "reports",
    )
    assert [i["id"] for i in w.incidents()] == ["INC-1"]
    with pytest.raises(toron.WarroomError, match="from_case"):
        w.rollback(["sim-drifted/queue"], to=full.id)
    rolled = w.rollback(["sim-drifted/queue"], to=full.id, incident="INC-1", from_case="sim/queue")
    assert [(r["case"], r["source_case"], r["source_run"]) for r in rolled] == [
        ("sim-drifted/queue", "sim/queue", full.id)
    ]
    third = toron.run(manifest, profile="broken")
    outcome = {f"{c['suite']}/{c['name']}": c["outcome"] for c in third.cases}
    assert outcome["sim-drifted/queue"] == "passed"
    path = Path(w.postmortem("INC-1"))
    text = path.read_text()
    assert path.name == "INC-1.md" and "sim-drifted/queue" in text and "coverage >= 90%" in text
    with pytest.raises(toron.WarroomError):
        w.mitigate("INC-7")


def _holding(root: Path, needle: str, skip: tuple[str, ...]) -> list[str]:
    """Files under `root` (but those under `skip`, relative) whose bytes hold `needle` (compressed archive
    objects are read through the archive as well)."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel.startswith(skip):
            continue
        data = path.read_bytes()
        if needle.encode() in data:
            found.append(rel)
    return found


def test_issue_11_protect_profile_holds_only_placeholders(project: Path) -> None:
    out = cli(project, "run", "--profile", "protect", "--no-progress")
    # The findings are redacted; the blocking `pii == 0` rule of the signup suite makes the run NO-GO.
    assert out.returncode == 1, out.stdout + out.stderr
    run_id = run_id_of(out)
    report = json.loads((project / "reports" / run_id / "report.json").read_text())
    attempt = report["cases"][0]["attempts"][0]
    kinds = sorted((f["artifact"], f["kind"]) for f in attempt["pii"])
    assert kinds == [("output", "card"), ("output", "email"), ("stdout", "email")], kinds
    assert attempt["stdout"].startswith("welcome <EMAIL:")
    # Toron wrote the archive, reports, events and logs: none holds the values (the project's own input and the
    # command's own output file are the user's). Archive objects are checked through the archive's reader.
    skip = ("backend/", "signup-out.json")
    for value in (EMAIL, CARD):
        assert _holding(project, value, skip) == [], value
    archived = json.dumps(toron.Archive(str(project / ".toron")).output(run_id, "signup/form"))
    assert "<EMAIL:" in archived and EMAIL not in archived and CARD not in archived
    log = (project / "logs" / "pii_scrubber.log").read_text()
    entries = [json.loads(line) for line in log.splitlines()]
    assert {e["kind"] for e in entries} == {"email", "card"}
    assert EMAIL not in log and "4242" not in log
    junit = (project / "reports" / run_id / "junit.xml").read_text()
    assert "&lt;EMAIL:" in junit or "<EMAIL:" in junit


def test_issue_11_strict_mode_fails_and_quarantines(project: Path) -> None:
    out = cli(project, "run", "--profile", "protect", "--no-progress", env={"PII_STRICT": "1"})
    assert out.returncode == 1, out.stdout + out.stderr
    assert "failed     signup/form" in out.stderr, out.stderr
    report = json.loads((project / "reports" / run_id_of(out) / "report.json").read_text())
    case = report["cases"][0]
    assert case["outcome"] == "failed"
    assert case["attempts"][0]["message"].startswith("PII found (strict mode: 3 findings: card at "), case
    listed = json.loads(cli(project, "quarantine", "list", "--json").stdout)
    assert {e["artifact"] for e in listed} >= {"output", "stdout"}
    qroot = project / ".toron" / "quarantine"
    for path in qroot.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    skip = ("backend/", "signup-out.json", ".toron/quarantine/")
    for value in (EMAIL, CARD):
        assert _holding(project, value, skip) == [], value
    assert not list((project / "snapshots").rglob("*.new"))
