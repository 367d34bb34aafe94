"""The warroom from Python and from the command line: a NO-GO run opens an incident, a second joins it, a
rollback of the mismatched golden to the GO run's output makes the case pass, the postmortem is written and
keeps a hand-written root cause; bad input raises ``toron.WarroomError`` (exit 2 on the command line, never a
traceback); a kill -9 in the middle of rollbacks leaves every golden whole and the database intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import REPO, child_env, project

TORON = Path(sys.executable).parent / "toron"

MANIFEST = """\
[project]
name = "wr"
jobs = 1

[profiles]
main = ["sim"]
broken = ["sim", "chaos"]

[[suite]]
name = "sim"

[[suite.case]]
name = "echo"
kind = "sim"
scenario = "echo.toml"
seed = 3
golden = true

[[suite]]
name = "chaos"

[[suite.case]]
name = "kv-bug"
kind = "chaos"
scenario = "kv_buggy.toml"
seeds = [1]

[[gate]]
rule = "failed == 0"
"""


class Project:
    """A project whose `main` profile is GO until its golden is tampered with."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest = project(root, MANIFEST)
        (root / "kv_buggy.toml").write_text((REPO / "examples/testops/scenarios/kv_buggy.toml").read_text())
        self.archive = root / ".toron"
        self.snapshots = root / "snapshots"
        first = self.run("main")
        output = toron.Archive(self.archive).output(first.id, "sim/echo")
        toron.Snapshots(self.snapshots, update=True).check("sim/echo", output)
        self.good = self.run("main")
        assert self.good.go

    def run(self, profile: str) -> toron.RunResult:
        return toron.run(self.manifest, profile, check=True)

    def tamper(self) -> None:
        toron.Snapshots(self.snapshots, update=True).check("sim/echo", {"tampered": True})

    def warroom(self) -> toron.Warroom:
        return toron.Warroom(
            self.root / "warroom",
            archive=self.archive,
            snapshots=self.snapshots,
            reports=self.root / "reports",
        )


@pytest.fixture
def proj(tmp_path: Path) -> Project:
    return Project(tmp_path)


def test_the_flow(proj: Project) -> None:
    w = proj.warroom()
    proj.tamper()
    bad1 = proj.run("main")
    assert not bad1.go
    inc = w.open_incident(bad1.id, owner="ana", labels=["golden"], who="ana")
    assert inc["created"] is True
    assert inc["id"] == "INC-1"
    assert inc["severity"] == "sev2"
    assert inc["rules"][0]["rule"] == "failed == 0"
    assert inc["cases"][0]["case"] == "sim/echo"
    assert inc["cases"][0]["golden"]["status"] == "failed"
    assert inc["timeline"][0]["who"] == "ana"
    bad2 = proj.run("main")
    joined = w.open_incident()  # the newest NO-GO run
    assert joined["created"] is False
    assert joined["runs"] == [bad1.id, bad2.id]
    assert [e["what"] for e in joined["timeline"]] == ["opened", "run_linked"]

    dry = w.rollback(["sim/echo"], to=proj.good.id, incident="INC-1", dry_run=True)
    assert dry[0]["dry_run"] is True and dry[0]["id"] is None
    assert w.rollbacks() == []
    done = w.rollback("sim/echo", to=proj.good.id, incident="INC-1")
    assert done[0]["source_run"] == proj.good.id
    assert "/tampered" in done[0]["diff"]
    w.mitigate("INC-1", note="golden rolled back")
    fixed = proj.run("main")
    assert fixed.go
    assert w.resolve("INC-1", who="bo")["status"] == "resolved"
    assert [i["id"] for i in w.incidents("resolved")] == ["INC-1"]
    assert w.incidents("open") == []

    path = Path(w.postmortem("INC-1"))
    assert path == proj.root / "warroom" / "postmortems" / "INC-1.md"
    md = path.read_text()
    for needle in ("## Timeline", "`failed == 0`", "## Rollbacks", "golden rolled back", "## Root cause"):
        assert needle in md
    human = md.split("## Root cause\n")[1].split("\n## ")[0]
    path.write_text(md.replace(human, "\nThe golden was replaced by hand.\n"))
    w.note("INC-1", "reviewed")
    md = Path(w.postmortem("INC-1")).read_text()
    assert "## Root cause\n\nThe golden was replaced by hand.\n" in md
    assert (path.parent / "INC-1.html").read_text().startswith("<!DOCTYPE html>")


def test_bad_input_raises_warroom_error(proj: Project) -> None:
    w = proj.warroom()
    with pytest.raises(toron.WarroomError, match="it has no incidents"):
        w.incident("INC-9")
    with pytest.raises(toron.WarroomError, match="newest: "):
        w.open_incident("run-2.5.0-20000101T000000Z")
    with pytest.raises(toron.WarroomError, match="is GO"):
        w.open_incident(proj.good.id)
    with pytest.raises(toron.WarroomError, match=r"no NO-GO run .*it has no runs"):
        toron.Warroom(proj.root / "w2", archive=proj.root / "empty").open_incident()
    with pytest.raises(toron.WarroomError, match="unknown severity"):
        w.open_incident(None, None, "sev9")
    proj.tamper()
    proj.run("main")
    w.open_incident()
    with pytest.raises(toron.WarroomError, match=r"it is open \(allowed next: mitigated, resolved\)"):
        w.reopen("INC-1")
    with pytest.raises(toron.WarroomError, match="unknown status"):
        w.incidents("closed")
    with pytest.raises(toron.WarroomError, match='archived no output for case "sim/nope"'):
        w.rollback(["sim/nope"], to=proj.good.id)
    with pytest.raises(toron.WarroomError, match="no run"):
        w.rollback(["sim/echo"], to="run-2.5.0-20000101T000000Z")
    with pytest.raises(TypeError):
        w.rollback([1], to=proj.good.id)  # type: ignore[list-item]
    assert isinstance(toron.WarroomError("x"), toron.Error)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TORON), *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line(proj: Project) -> None:
    root = proj.root
    proj.tamper()
    bad = proj.run("main")
    out = cli("incident", "open", "--json", cwd=root)
    assert out.returncode == 0, out.stderr
    inc: dict[str, Any] = json.loads(out.stdout)
    assert (inc["id"], inc["created"], inc["run_id"]) == ("INC-1", True, bad.id)
    out = cli("incident", "list", cwd=root)
    assert out.returncode == 0 and "INC-1" in out.stdout and "open" in out.stdout
    assert cli("incident", "note", "INC-1", "looking", cwd=root).returncode == 0
    out = cli("incident", "show", "INC-1", cwd=root)
    assert "failed == 0" in out.stdout and "looking" in out.stdout
    out = cli("rollback", "sim/echo", "--to", proj.good.id, "--incident", "INC-1", "--dry-run", cwd=root)
    assert out.returncode == 0, out.stderr
    assert "would roll back" in out.stdout and "/tampered" in out.stdout
    out = cli("rollback", "--all-failed", bad.id, "--to", proj.good.id, "--incident", "INC-1", cwd=root)
    assert out.returncode == 0, out.stderr
    assert "sim/echo: rolled back" in out.stdout
    assert proj.run("main").go
    out = cli("incident", "mitigate", "INC-1", "--note", "rolled back", "--json", cwd=root)
    assert json.loads(out.stdout)["status"] == "mitigated"
    assert cli("incident", "resolve", "INC-1", cwd=root).returncode == 0
    assert cli("incident", "list", "--status", "resolved", "--json", cwd=root).stdout.count("INC-1") == 1
    out = cli("postmortem", "INC-1", cwd=root)
    assert out.returncode == 0, out.stderr
    assert Path(root / out.stdout.strip()).read_text().startswith("# INC-1")

    # Bad input: exit 2, a named error, never a traceback.
    for args, message in [
        (["incident", "show", "INC-7"], 'no incident "INC-7"'),
        (["incident", "mitigate", "INC-1"], "it is resolved (allowed next: reopened)"),
        (["incident", "open", "--run-id", "run-2.5.0-20000101T000000Z"], "no run"),
        (["rollback", "sim/nope", "--to", proj.good.id], 'archived no output for case "sim/nope"'),
        (["rollback", "--to", proj.good.id], "name at least one CASE"),
        (["postmortem", "INC-3"], 'no incident "INC-3"'),
    ]:
        out = cli(*args, cwd=root)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr


INTEGRITY = """\
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("PRAGMA integrity_check").fetchone()[0], db.execute("SELECT COUNT(*) FROM rollbacks").fetchone()[0])
"""

CHILD = """\
import sys, toron
w = toron.Warroom(sys.argv[1], archive=sys.argv[2], snapshots=sys.argv[3])
tags = sys.argv[4:]
i = 0
while True:
    w.rollback(["sim/q"], to=tags[i % 2])
    i += 1
    if i == 3:
        print("rolling", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_in_the_middle_of_rollbacks_leaves_goldens_whole_and_the_db_intact(tmp_path: Path) -> None:
    archive = toron.Archive(tmp_path / ".toron")
    values = [{"n": 1, "items": list(range(2000))}, {"n": 2, "items": list(range(1000, 4000))}]
    tags = []
    for v in values:
        with archive.new_run() as run:
            run.add_case("sim/q", v)
            tags.append(run.tag)
    snapshots = tmp_path / "snapshots"
    toron.Snapshots(snapshots, update=True).check("sim/q", values[0])
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    for delay in (0.05, 0.2, 0.5):
        child = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(tmp_path / "warroom"),
                str(tmp_path / ".toron"),
                str(snapshots),
                *tags,
            ],
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "rolling"
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        golden = toron.Snapshots(snapshots).read("sim/q")
        assert golden in values
        # Checked in another process: two copies of SQLite in one process (Python's and toron's) must not open
        # the same database file, or closing one drops the other's POSIX locks (sqlite.org/howtocorrupt.html).
        check = subprocess.run(
            [sys.executable, "-c", INTEGRITY, str(tmp_path / "warroom" / "warroom.db")],
            capture_output=True,
            text=True,
            check=True,
        )
        ok, count_text = check.stdout.split()
        assert ok == "ok"
        count = int(count_text)
        assert count >= 3
        # The warroom opens and works after the kill.
        w = toron.Warroom(tmp_path / "warroom", archive=tmp_path / ".toron", snapshots=snapshots)
        assert len(w.rollbacks()) == count
        del w
    leftovers = [p.name for p in snapshots.rglob("*") if p.name.endswith(".tmp")]
    assert len(leftovers) <= 3  # at most one temporary file per kill, never a torn golden


OPENER = """\
import sys, toron
w = toron.Warroom(sys.argv[1], archive=sys.argv[2])
print(w.open_incident(sys.argv[3])["created"])
"""


def test_two_processes_opening_one_dedup_key_give_one_incident(proj: Project) -> None:
    proj.tamper()
    runs = [proj.run("main").id for _ in range(2)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, str(proj.root / "warroom"), str(proj.archive), run_id],
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for run_id in runs
    ]
    created = sorted(c.communicate(timeout=60)[0].strip() for c in children)
    assert created == ["False", "True"]
    incidents = proj.warroom().incidents()
    assert len(incidents) == 1
    assert sorted(incidents[0]["runs"]) == sorted(runs)
