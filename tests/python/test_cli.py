"""The `toron` command line, driven through the installed script: diff exit codes and formats, errors naming
file, line and column, snapshot list / accept / reject / review (answered on a terminal), simulate."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env, scenario_path

TORON = Path(sys.executable).parent / "toron"


def toron_cli(*args: str, cwd: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TORON), *args],
        cwd=cwd,
        env=child_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=1))
    return path


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")


def test_help_lists_commands_and_exit_codes() -> None:
    out = toron_cli("--help")
    assert out.returncode == 0
    for word in ["diff", "snapshot", "simulate", "exit codes", "0 ", "1 ", "2 "]:
        assert word in out.stdout
    module = subprocess.run(
        [sys.executable, "-m", "toron", "--help"],
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0 and module.stdout == out.stdout
    assert toron_cli("--version").stdout.strip() == f"toron {toron.__version__}"
    assert toron_cli().returncode == 2


def test_diff_exit_codes_and_formats(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", {"items": [{"id": 1, "p": 10}, {"id": 2, "p": 20}], "at": 1})
    same = write(tmp_path / "same.json", {"at": 1.0, "items": [{"p": 10, "id": 1}, {"id": 2, "p": 20}]})
    new = write(tmp_path / "new.json", {"items": [{"id": 2, "p": 21}, {"id": 1, "p": 10}], "at": 2})
    r = toron_cli("diff", str(old), str(same))
    assert (r.returncode, r.stdout.strip()) == (0, "no differences")
    r = toron_cli("diff", str(old), str(new))
    assert r.returncode == 1 and "/at: 1 -> 2" in r.stdout and "\x1b[" not in r.stdout
    assert "\x1b[" in toron_cli("diff", "--format", "color", str(old), str(new)).stdout
    assert "<" in toron_cli("diff", "--format", "html", str(old), str(new)).stdout
    machine = json.loads(toron_cli("diff", "--format", "json", str(old), str(new)).stdout)
    assert machine["patch"] == toron.diff(toron.read_json(old), toron.read_json(new)).patch
    patch = json.loads(toron_cli("diff", "--format", "patch", str(old), str(new)).stdout)
    assert toron.apply_patch(toron.read_json(old), patch) == toron.read_json(new)
    keyed = toron_cli("diff", "--format", "json", "--key", "/items=id", "--ignore", "/at", str(old), str(new))
    assert keyed.returncode == 1
    assert json.loads(keyed.stdout)["summary"] == "1 changed, 0 added, 0 removed, 1 moved"
    r = toron_cli("diff", "--tolerance", "1", "--ignore", "/items", str(old), str(new))
    assert r.returncode == 0, r.stdout
    r = toron_cli("diff", "--redact", "/items/*/p", str(old), str(new))
    assert r.returncode == 1, r.stdout
    assert "21" not in r.stdout and "20" not in r.stdout


def test_diff_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", {"a": 1})
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": 1,\n  "b": [1, 2,]\n}\n')
    r = toron_cli("diff", str(good), str(bad))
    assert r.returncode == 2 and r.stdout == ""
    assert f"{bad}:3:" in r.stderr and "toron: error:" in r.stderr
    dup = tmp_path / "dup.json"
    dup.write_text('{"a": 1,\n "a": 2}')
    r = toron_cli("diff", str(dup), str(good))
    assert r.returncode == 2 and str(dup) in r.stderr and "/a" in r.stderr
    r = toron_cli("diff", str(good), str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "missing.json" in r.stderr
    r = toron_cli("diff", "--key", "items", str(good), str(good))
    assert r.returncode == 2 and "PATH=MEMBER" in r.stderr
    r = toron_cli("diff", "--ignore", "meta", str(good), str(good))
    assert r.returncode == 2 and "ignore" in r.stderr
    assert toron_cli("diff", "--format", "xml", str(good), str(good)).returncode == 2


def make_pending(root: Path) -> toron.Snapshots:
    snaps = toron.Snapshots(root, update=False)
    snaps.check("suite/a", {"n": 1}, update=True)
    snaps.check("suite/b", {"n": 1}, update=True)
    snaps.check("suite/a", {"n": 2})
    snaps.check("suite/b", {"n": 3})
    snaps.check("c", [1])
    return snaps


def test_snapshot_list_accept_reject(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    r = toron_cli("snapshot", "list", "--root", str(root))
    assert r.returncode == 0 and "no golden files" in r.stdout
    snaps = make_pending(root)
    r = toron_cli("snapshot", "list", "--root", str(root))
    assert r.returncode == 0
    assert (
        "suite/a\tpending" in r.stdout
        and "c\tpending (new)" in r.stdout
        and "2 golden, 3 pending" in r.stdout
    )
    r = toron_cli("snapshot", "accept", "suite/a", "--root", str(root))
    assert (r.returncode, r.stdout) == (0, "accepted suite/a\n")
    assert snaps.read("suite/a") == {"n": 2}
    r = toron_cli("snapshot", "reject", "--root", str(root))
    assert r.returncode == 0 and "rejected c" in r.stdout and "rejected suite/b" in r.stdout
    assert snaps.pending_cases() == [] and snaps.read("suite/b") == {"n": 1}
    r = toron_cli("snapshot", "accept", "suite/b", "--root", str(root))
    assert r.returncode == 2 and "suite/b" in r.stderr
    # --root defaults to ./snapshots
    r = toron_cli("snapshot", "list", cwd=tmp_path)
    assert r.returncode == 0 and "suite/a\tok" in r.stdout


def test_snapshot_review_refuses_a_non_interactive_stdin(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    snaps = make_pending(root)
    r = toron_cli("snapshot", "review", "--root", str(root), stdin="a\na\na\n")
    assert r.returncode == 2 and "not an interactive terminal" in r.stderr
    assert len(snaps.pending_cases()) == 3, "nothing was decided"


def review_on_a_terminal(root: Path, answers: str) -> tuple[int, str]:
    """Run `toron snapshot review` with a pseudo-terminal as stdin, typing `answers`."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answers.encode())
        proc = subprocess.run(
            [str(TORON), "snapshot", "review", "--root", str(root)],
            stdin=follower,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    return proc.returncode, proc.stdout + proc.stderr


def test_snapshot_review_accept_reject_skip(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    snaps = make_pending(root)
    # Pending in case order: c (new), suite/a, suite/b. Accept c, reject suite/a, skip suite/b.
    code, out = review_on_a_terminal(root, "a\nr\nhuh\ns\n")
    assert code == 1, out
    assert "[1/3] c: new golden" in out and "[2/3] suite/a: changed (1 changed" in out
    assert "/n: 1 -> 2" in out and "please answer" in out
    assert "1 accepted, 1 rejected, 1 skipped" in out
    assert snaps.read("c") == [1] and snaps.read("suite/a") == {"n": 1}
    assert snaps.pending_cases() == ["suite/b"]
    code, out = review_on_a_terminal(root, "a\n")
    assert code == 0 and "1 accepted, 0 rejected, 0 skipped" in out
    assert snaps.read("suite/b") == {"n": 3} and snaps.pending_cases() == []
    code, out = review_on_a_terminal(root, "")
    assert code == 0 and "no pending snapshots" in out


def test_simulate(tmp_path: Path) -> None:
    path = scenario_path("mm1")
    r = toron_cli("simulate", str(path), "--seed", "7", "--json", "--trace", str(tmp_path / "t.jsonl"))
    assert r.returncode == 0, r.stderr
    expected = toron.simulate(toron.Scenario.from_file(path), seed=7)
    assert json.loads(r.stdout)["digest"] == expected.digest
    assert (tmp_path / "t.jsonl").stat().st_size > 0
    r = toron_cli("simulate", str(path), "--seed", "7")
    assert r.returncode == 0 and expected.summary() in r.stdout and expected.digest in r.stdout
    buggy = toron_cli("simulate", str(scenario_path("kv_buggy")))
    assert buggy.returncode == 1 and "violation" in buggy.stdout
    r = toron_cli("simulate", str(REPO / "nope.toml"))
    assert r.returncode == 2 and "nope.toml" in r.stderr


def test_digest(tmp_path: Path) -> None:
    f = write(tmp_path / "v.json", {"b": 1.0, "a": [True]})
    assert toron_cli("digest", str(f)).stdout.strip() == toron.digest({"a": [True], "b": 1})
    assert toron_cli("digest", "--canonical", str(f)).stdout == '{"a":[true],"b":1}\n'


def test_input_errors_name_the_file_position_and_what_was_written(tmp_path: Path) -> None:
    ok = write(tmp_path / "ok.json", {})
    notes = tmp_path / "notes.json"
    notes.write_text("name: x\n")
    r = toron_cli("diff", str(notes), str(ok))
    assert r.returncode == 2
    assert f"{notes}:1:1: invalid JSON: expected a JSON value" in r.stderr, r.stderr
    assert "found `name:`" in r.stderr and "ident" not in r.stderr, r.stderr

    r = toron_cli("diff", str(tmp_path / "missing.json"), str(ok))
    assert r.returncode == 2
    assert f"{tmp_path / 'missing.json'}: cannot read the file: it does not exist" in r.stderr, r.stderr
    assert "read or write" not in r.stderr

    trace = tmp_path / "a.ndjson"
    trace.write_text('{"i": 0}\n{oops\n')
    good = tmp_path / "b.ndjson"
    good.write_text('{"i": 0}\n{"i": 1}\n')
    r = toron_cli("trace", "diff", str(trace), str(good))
    assert r.returncode == 2, r.stdout + r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert (
        line == f"toron: error: {trace}:2:2: trace A is not JSON Lines: key must be a string, found `oops`"
    ), line

    scenario = tmp_path / "typo.toml"
    scenario.write_text(
        'name = "t"\nstop = { requests = 10 }\n\n[[node]]\nid = "server"\nmodel = "echo"\n\n'
        '[network]\nlatency = { dist = "constant", valu = "1ms" }\n'
    )
    r = toron_cli("simulate", str(scenario))
    assert r.returncode == 2
    assert f"{scenario}:9:32: field network.latency.valu: unknown field `valu`" in r.stderr, r.stderr
