"""Golden files from Python: the check / pending / accept / reject workflow, update mode (argument and
TORON_SNAPSHOT_UPDATE), options, a golden edited into invalid JSON (the pytest plugin: test_pytest_plugin.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import toron


@pytest.fixture
def snaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> toron.Snapshots:
    monkeypatch.delenv("TORON_SNAPSHOT_UPDATE", raising=False)
    return toron.Snapshots(tmp_path / "snapshots")


def test_golden_workflow(snaps: toron.Snapshots) -> None:
    root = Path(snaps.root)
    # No golden: the check fails and writes the candidate beside it.
    r = snaps.check("kv/basic", {"ok": True, "n": [1, 2]})
    assert (r.status, r.passed, bool(r), r.golden_missing) == ("failed", False, False, True)
    assert r.summary() == "no golden yet"
    assert r.pending_path == str(root / "kv" / "basic.json.new") and Path(r.pending_path).is_file()
    assert not Path(r.golden_path).exists()
    assert snaps.pending_cases() == ["kv/basic"]
    [p] = snaps.pending()
    assert (p.case, p.golden, p.candidate) == ("kv/basic", None, {"ok": True, "n": [1, 2]})
    # Accept: the candidate becomes the golden; the same value now passes and writes nothing.
    assert snaps.accept() == ["kv/basic"]
    assert snaps.pending() == [] and snaps.cases() == ["kv/basic"]
    golden = Path(snaps.golden_path("kv/basic"))
    text = golden.read_text()
    assert '"case": "kv/basic"' in text and text.endswith("}\n")
    r = snaps.check("kv/basic", {"n": [1, 2.0], "ok": True})
    assert (r.status, r.passed, r.diff, r.pending_path) == ("passed", True, None, None)
    assert snaps.read("kv/basic") == {"ok": True, "n": [1, 2]}
    # A change: failed with the diff; reject leaves the golden as it was.
    r = snaps.check("kv/basic", {"ok": False, "n": [1, 2]})
    assert r.status == "failed" and r.diff is not None
    assert r.diff.patch == [{"op": "replace", "path": "/ok", "value": False}]
    assert r.summary() == "1 changed, 0 added, 0 removed"
    assert snaps.reject("kv/basic") == ["kv/basic"]
    assert golden.read_text() == text and snaps.pending_cases() == []
    # Rejecting or accepting a case with no candidate is a SnapshotError.
    with pytest.raises(toron.SnapshotError):
        snaps.accept("kv/basic")
    with pytest.raises(toron.SnapshotError):
        snaps.reject("nope")


def test_accepting_an_unchanged_candidate_rewrites_nothing(snaps: toron.Snapshots) -> None:
    snaps.check("a", {"n": 1}, update=True)
    golden = Path(snaps.golden_path("a"))
    before = golden.stat()
    Path(snaps.pending_path("a")).write_bytes(golden.read_bytes())
    assert snaps.accept() == ["a"]
    after = golden.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not Path(snaps.pending_path("a")).exists()
    # Checking an equal value in update mode does not rewrite the golden either.
    assert snaps.check("a", {"n": 1.0}, update=True).status == "passed"
    assert golden.stat().st_mtime_ns == before.st_mtime_ns


def test_update_mode_argument_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TORON_SNAPSHOT_UPDATE", raising=False)
    plain = toron.Snapshots(tmp_path)
    assert not plain.update
    assert plain.check("c", [1], update=True).status == "created"
    assert plain.check("c", [2], update=True).status == "updated"
    assert plain.read("c") == [2]
    monkeypatch.setenv("TORON_SNAPSHOT_UPDATE", "1")
    env = toron.Snapshots(tmp_path)
    assert env.update
    r = env.check("c", [3])
    assert (r.status, r.passed, r.pending_path) == ("updated", True, None)
    assert env.check("d", {"x": 1}).status == "created"
    assert env.check("d", {"x": 2}, update=False).status == "failed"
    assert toron.Snapshots(tmp_path, update=False).check("c", [4]).status == "failed"
    assert "update=True" in repr(env)


def test_check_options_apply_to_the_comparison_only(snaps: toron.Snapshots) -> None:
    value = {"at": "10:00", "token": "s3cr3t", "users": [{"id": "a", "x": 1.0}, {"id": "b", "x": 2.0}]}
    r = snaps.check("opts", value, update=True, redact=["/token"])
    assert r.status == "created"
    stored = Path(snaps.golden_path("opts")).read_text()
    assert "s3cr3t" not in stored and "[REDACTED]" in stored
    moved = {"at": "11:00", "token": "other", "users": [{"id": "a", "x": 1.0}, {"id": "b", "x": 2.001}]}
    r = snaps.check(
        "opts", moved, keys={"/users": "id"}, ignore=["/at"], redact=["/token"], tolerances={"/users": 0.01}
    )
    assert r.passed, r.diff and r.diff.patch
    # Without the options it differs; the golden itself is untouched by the comparison.
    assert not snaps.check("opts", moved, redact=["/token"])
    assert Path(snaps.golden_path("opts")).read_text() == stored


def test_golden_edited_into_invalid_json_names_file_and_line(snaps: toron.Snapshots) -> None:
    snaps.check("broken", {"a": 1, "b": [1, 2]}, update=True)
    golden = Path(snaps.golden_path("broken"))
    text = golden.read_text()
    golden.write_text(text.replace('"b": [', '"b": [,', 1))
    line = next(i for i, s in enumerate(golden.read_text().splitlines(), 1) if "[," in s)
    with pytest.raises(toron.SnapshotError) as info:
        snaps.check("broken", {"a": 1, "b": [1, 2]})
    e = info.value
    assert e.file == str(golden) and e.line == line and e.column is not None
    assert f"{golden}:{line}:" in str(e)
    assert not Path(snaps.pending_path("broken")).exists(), "nothing is written for a broken golden"
    with pytest.raises(toron.SnapshotError):
        snaps.read("broken")
    # Update mode replaces it.
    assert snaps.check("broken", {"a": 1}, update=True).status == "updated"
    assert snaps.read("broken") == {"a": 1}


def test_unused_and_bad_names(snaps: toron.Snapshots) -> None:
    for case in ["s/a", "s/b", "old"]:
        snaps.check(case, 1, update=True)
    assert snaps.unused(["s/a", "s/b"]) == ["old"]
    assert Path(snaps.golden_path("old")).exists()
    for bad in ["", "../up", "/abs", "a/./b", ".hidden"]:
        with pytest.raises(toron.InvalidArgumentError):
            snaps.check(bad, 1)
    with pytest.raises(toron.CanonicalError) as info:
        snaps.check("nan", {"x": float("nan")})
    assert info.value.path == "/x"


def test_environment_is_not_leaked() -> None:
    # The suite itself never runs in update mode by accident.
    assert os.environ.get("TORON_SNAPSHOT_UPDATE") in (None, "", "0")


def test_pending_with_options(snaps: toron.Snapshots) -> None:
    snaps.check("p", {"a": 1.0, "b": 1}, update=True)
    snaps.check("p", {"a": 1.001, "b": 2})
    [p] = snaps.pending()
    assert p.diff.counts["changed"] == 2
    [p] = snaps.pending(tolerance=0.01)
    assert p.diff.patch == [{"op": "replace", "path": "/b", "value": 2}]
    assert p.golden == {"a": 1.0, "b": 1} and Path(p.new_path).name == "p.json.new"
    assert "p" in repr(p)


def _unused(x: Any) -> None:
    del x
