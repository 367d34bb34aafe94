"""`toron scrub`, `toron scan` and `toron quarantine` through the installed script: outputs, exit codes (0
nothing found, 1 found, 2 bad input), strict mode writing nothing, the log never holding a value."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import child_env

TORON = Path(sys.executable).parent / "toron"
TEXT = "login bob@corp.io from 10.0.0.1:22\ncard 4111 1111 1111 1111\nplain line\n"


def cli(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    e = child_env()
    e["TORON_PII_KEY"] = "cli test key"
    e.pop("PII_STRICT", None)
    e.update(env or {})
    return subprocess.run(
        [str(TORON), *args],
        cwd=cwd,
        env=e,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")


def test_scrub_file_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(TEXT)
    want = toron.scrub(TEXT, key="cli test key")
    out = cli("scrub", "a.log", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert out.stdout == want.text
    assert "3 findings: card 1, email 1, ipv4 1" in out.stderr
    piped = cli("scrub", "-", cwd=tmp_path, stdin=TEXT)
    assert (piped.returncode, piped.stdout) == (1, want.text)
    clean = cli("scrub", cwd=tmp_path, stdin="nothing to see\n")
    assert (clean.returncode, clean.stdout) == (0, "nothing to see\n")
    assert "no findings" in clean.stderr


def test_scrub_strict_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(TEXT)
    for args, env in [(["--strict"], {}), ([], {"PII_STRICT": "1"})]:
        out = cli("scrub", "a.log", *args, cwd=tmp_path, env=env)
        assert (out.returncode, out.stdout) == (1, "")
        assert "strict mode: 3 findings: email at 1:7, ipv4 at 1:24, card at 2:6" in out.stderr
        assert "bob" not in out.stderr
    ok = cli("scrub", "--strict", cwd=tmp_path, stdin="clean\n")
    assert (ok.returncode, ok.stdout) == (0, "clean\n")


def test_scrub_json_kinds_allow_and_log(tmp_path: Path) -> None:
    doc = {"user": {"email": "bob@corp.io", "password": "hunter2hunter2"}, "qa": "qa@example.com"}
    (tmp_path / "d.json").write_text(json.dumps(doc))
    out = cli("scrub", "d.json", "--json", "--allow", "*@example.com", "--log", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    value = json.loads(out.stdout)
    assert value["qa"] == "qa@example.com"
    assert value["user"]["email"].startswith("<EMAIL:") and value["user"]["password"].startswith("<TOKEN:")
    log = (tmp_path / "logs" / "pii_scrubber.log").read_text()
    lines = [json.loads(line) for line in log.splitlines()]
    assert [(e["kind"], e["location"], e["action"]) for e in lines] == [
        ("email", "/user/email", "redacted"),
        ("token", "/user/password", "redacted"),
    ]
    assert set(lines[0]) == {"time", "run", "case", "artifact", "kind", "location", "placeholder", "action"}
    assert "bob" not in log and "hunter2" not in log
    only = cli("scrub", "d.json", "--json", "--kinds", "token", cwd=tmp_path)
    assert json.loads(only.stdout)["user"]["email"] == "bob@corp.io"


def test_scan_lines_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(TEXT)
    out = cli("scan", "a.log", cwd=tmp_path)
    assert out.returncode == 1
    rows = [line.split(" ") for line in out.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("email", "1:7"), ("ipv4", "1:24"), ("card", "2:6")]
    assert all(r[2].startswith("<") for r in rows)
    js = cli("scan", "a.log", "--format", "json", cwd=tmp_path)
    assert [f["kind"] for f in json.loads(js.stdout)] == ["email", "ipv4", "card"]
    assert cli("scan", cwd=tmp_path, stdin="nothing\n").returncode == 0


def test_bad_input_is_exit_2(tmp_path: Path) -> None:
    missing = cli("scrub", "missing.log", cwd=tmp_path)
    assert missing.returncode == 2 and "missing.log" in missing.stderr
    bad_kind = cli("scan", "--kinds", "email,mail", cwd=tmp_path, stdin="x")
    assert bad_kind.returncode == 2 and 'unknown kind "mail"' in bad_kind.stderr
    (tmp_path / "n.json").write_text("{not json")
    not_json = cli("scrub", "n.json", "--json", cwd=tmp_path)
    assert not_json.returncode == 2 and "n.json" in not_json.stderr and not_json.stdout == ""


def test_quarantine_commands(tmp_path: Path) -> None:
    root = tmp_path / ".toron" / "quarantine"
    findings = toron.scan(TEXT, key="k")
    entry = toron._toron._quarantine_put(root, "run-1", "case-a", "out/a.log", TEXT.encode(), findings)
    assert entry["kinds"] == ["card", "email", "ipv4"]
    listed = cli("quarantine", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0
    [meta] = json.loads(listed.stdout)
    assert meta["id"] == entry["id"] and "bob" not in listed.stdout
    assert entry["id"] in cli("quarantine", "list", cwd=tmp_path).stdout
    unknown = cli("quarantine", "purge", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and entry["id"] in unknown.stderr
    released = cli("quarantine", "release", entry["id"], "--to", str(tmp_path), cwd=tmp_path)
    assert released.returncode == 0, released.stderr
    assert (tmp_path / "a.log").read_text() == TEXT
    assert cli("quarantine", "list", cwd=tmp_path).stdout.strip() == "quarantine is empty"
    again = toron._toron._quarantine_put(root, "run-1", "case-a", "out/a.log", b"x", [])
    assert cli("quarantine", "purge", again["id"], cwd=tmp_path).returncode == 0
    empty = cli("quarantine", "purge", again["id"], cwd=tmp_path)
    assert empty.returncode == 2 and "quarantine is empty" in empty.stderr


def test_replay_scrubs_as_the_run_did(tmp_path: Path) -> None:
    # A node named by an e-mail address puts it in the output; `[pii] kinds = ["card"]` keeps it. Replay must
    # scrub with the run's kinds, not every detector, or the replayed output differs from the archived one.
    (tmp_path / "scen.toml").write_text(
        'name = "t"\nseed = 1\nstop = { requests = 10 }\n\n[[node]]\nid = "jane.roe@corp-mail.com"\n'
        'model = "echo"\n\n[load]\nmode = "closed"\nclients = 1\ntarget = "jane.roe@corp-mail.com"\n'
    )
    (tmp_path / "testops.toml").write_text(
        '[project]\nname = "p"\n\n[profiles]\ndefault = ["sim"]\n\n[[suite]]\nname = "sim"\n\n'
        '[[suite.case]]\nname = "mail"\nkind = "sim"\nscenario = "scen.toml"\n\n[pii]\nkinds = ["card"]\n'
    )
    run = cli("run", "--no-progress", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    run_id = next(w for w in run.stdout.split() if w.startswith("run-")).rstrip(":")
    replay = cli("replay", "--run-id", run_id, "--offline", cwd=tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "jane.roe@corp-mail.com" not in replay.stdout and "<EMAIL:" not in replay.stdout, replay.stdout
    assert f"replay of {run_id}: identical" in replay.stdout, replay.stdout
