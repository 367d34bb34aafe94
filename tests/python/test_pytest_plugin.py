"""The pytest plugin's flow, each step a real pytest run (a child process) on generated test files in a temp
dir: pending candidates, update, check (nothing written), the diff options, ``assert value == snapshot``,
unused goldens only on full runs, ``pytest -n 2``, ``toron_seeds`` with its reproduction line, and
``toron_scenario``."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import child_env
from toron.pytest_plugin import SnapshotFixture, _Ledger, _merge


def pytest_run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q ARGS`` in `cwd` (its own rootdir: an empty pytest.ini is written there). Only this
    plugin and xdist are loaded: autoloading hypothesis' and schemathesis' plugins costs seconds a run."""
    (cwd / "pytest.ini").touch()
    child = child_env()
    for name in (
        "TORON_SNAPSHOT_UPDATE",
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTEST_XDIST_AUTO_NUM_WORKERS",
    ):
        child.pop(name, None)
    child["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = ["-p", "toron.pytest_plugin", "-p", "xdist.plugin"]
    child.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, *args],
        cwd=cwd,
        env=child,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root`: its content digest and mtime (what "nothing written" compares)."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def out(r: subprocess.CompletedProcess[str]) -> str:
    return r.stdout + r.stderr


FLOW = """
import pytest

VALUE = {"total": TOTAL, "items": [1, 2]}

def test_value(snapshot):
    snapshot.assert_match(VALUE)

def test_named(snapshot):
    snapshot.check({"at": "AT", "n": 1}, name="meta", ignore=["/at"])
    assert [1, 2, TOTAL] == snapshot

class TestGroup:
    def test_value(self, snapshot):
        assert snapshot == {"group": True}
"""


def flow(tmp: Path, total: int = 3, at: str = "10:00") -> None:
    write(tmp / "test_flow.py", FLOW.replace("TOTAL", str(total)).replace("AT", at))


CASES = [
    "test_flow/TestGroup/test_value",
    "test_flow/test_named",
    "test_flow/test_named/meta",
    "test_flow/test_value",
]


def test_pending_then_update_then_a_change_shows_the_toron_diff(tmp_path: Path) -> None:
    snaps = toron.Snapshots(tmp_path / "snapshots", update=False)
    flow(tmp_path)
    first = pytest_run(tmp_path)
    assert first.returncode == 1, out(first)
    assert "3 failed" in first.stdout and "no golden yet" in first.stdout
    assert f"toron snapshot review --root {snaps.root}" in first.stdout
    # Without a golden each check leaves its candidate (the class method in a directory of its own).
    assert snaps.pending_cases() == CASES and snaps.cases() == []

    updated = pytest_run(tmp_path, "--snapshot-update")
    assert updated.returncode == 0, out(updated)
    assert snaps.cases() == CASES and snaps.pending_cases() == []
    assert snaps.read("test_flow/test_named-2") is None and snaps.read("test_flow/test_named") == [1, 2, 3]
    before = tree(tmp_path / "snapshots")
    # Equal values (the ignored path may differ) pass and rewrite nothing.
    flow(tmp_path, at="11:00")
    again = pytest_run(tmp_path)
    assert again.returncode == 0, out(again)
    assert tree(tmp_path / "snapshots") == before

    flow(tmp_path, total=4)
    changed = pytest_run(tmp_path)
    assert changed.returncode == 1 and "2 failed, 1 passed" in changed.stdout, out(changed)
    # Both forms show the diff exactly as `toron diff` renders it, then where the candidate went.
    for old, new in [({"total": 3, "items": [1, 2]}, {"total": 4, "items": [1, 2]}), ([1, 2, 3], [1, 2, 4])]:
        rendered = toron.diff(old, new).render("text").strip()
        assert rendered and all(line in changed.stdout for line in rendered.splitlines()), changed.stdout
    assert "value == snapshot 'test_flow/test_named': differs from its golden" in changed.stdout
    assert "snapshot 'test_flow/test_value' differs from its golden" in changed.stdout
    assert "2 snapshot(s) differ under" in changed.stdout
    assert snaps.pending_cases() == ["test_flow/test_named", "test_flow/test_value"]
    assert snaps.read("test_flow/test_value") == {"total": 3, "items": [1, 2]}, "goldens stay as they were"
    assert "--snapshot-check" in pytest_run(tmp_path, "--help").stdout
    # Installed, pytest finds the plugin by its entry point (the rest of this suite runs under it).
    assert "toron.pytest_plugin" in {e.value for e in entry_points(group="pytest11")}


def test_check_mode_writes_nothing_and_fails_on_mismatch_or_missing(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    flow(tmp_path)
    missing = pytest_run(tmp_path, "--snapshot-check")
    assert missing.returncode == 1 and "3 failed" in missing.stdout, out(missing)
    assert "no golden yet" in missing.stdout and "--snapshot-check wrote nothing" in missing.stdout
    assert not root.exists(), "not even a pending candidate or the directory"

    assert pytest_run(tmp_path, "--snapshot-update").returncode == 0
    # A stale candidate from an earlier plain run: a passing check in check mode leaves it too.
    flow(tmp_path, total=4)
    assert pytest_run(tmp_path).returncode == 1
    flow(tmp_path)
    before = tree(root)
    assert "test_flow/test_value.json.new" in before
    ok = pytest_run(tmp_path, "--snapshot-check")
    assert ok.returncode == 0, out(ok)
    flow(tmp_path, total=5)
    changed = pytest_run(tmp_path, "--snapshot-check")
    assert changed.returncode == 1 and "2 failed" in changed.stdout, out(changed)
    assert toron.diff({"total": 3}, {"total": 5}).render("text").strip() in changed.stdout
    assert "2 snapshot(s) differ or have no golden (--snapshot-check wrote nothing)" in changed.stdout
    assert tree(root) == before

    for args, env in [(["--snapshot-update"], {}), ([], {"TORON_SNAPSHOT_UPDATE": "1"})]:
        both = pytest_run(tmp_path, "--snapshot-check", *args, env=env)
        assert both.returncode == pytest.ExitCode.USAGE_ERROR, out(both)
        assert "--snapshot-check never writes goldens" in both.stderr
    assert tree(root) == before


OPTION_CASES: list[tuple[Any, Any, dict[str, Any], bool]] = [
    ({"at": 1, "n": 1}, {"at": 2, "n": 1}, {"ignore": ["/at"]}, True),
    ({"at": 1, "n": 1}, {"at": 2, "n": 2}, {"ignore": ["/at"]}, False),
    ({"x": 1.0}, {"x": 1.004}, {"tolerance": 0.01}, True),
    ({"x": 1.0}, {"x": 1.02}, {"tolerance": 0.01}, False),
    ({"x": 100.0}, {"x": 101.0}, {"tolerance": {"rel": 0.02}}, True),
    ({"a": {"x": 1.0}, "b": 1.0}, {"a": {"x": 1.5}, "b": 1.0}, {"tolerances": {"/a": 1}}, True),
    ({"a": {"x": 1.0}, "b": 1.0}, {"a": {"x": 1.0}, "b": 1.5}, {"tolerances": {"/a": 1}}, False),
    # Keyed records: an inserted one is one addition, the others stay matched (one patch for both modes).
    (
        {"u": [{"id": "a", "v": 1}, {"id": "b", "v": 2}]},
        {"u": [{"id": "z", "v": 0}, {"id": "a", "v": 1}, {"id": "b", "v": 3}]},
        {"keys": {"/u": "id"}},
        False,
    ),
    ({"u": [{"id": "a", "v": 1}]}, {"u": [{"id": "a", "v": 1.0}]}, {"keys": {"/u": "id"}}, True),
    ({"token": "s3cr3t", "n": 1}, {"token": "other", "n": 1}, {"redact": ["/token"]}, True),
    ({"token": "s3cr3t", "n": 1}, {"token": "other", "n": 2}, {"redact": ["/token"]}, False),
]


@pytest.mark.parametrize(("golden", "value", "options", "equal"), OPTION_CASES)
def test_diff_options_are_toron_diffs_and_check_mode_compares_as_the_core(
    tmp_path: Path, golden: Any, value: Any, options: dict[str, Any], equal: bool
) -> None:
    def fixture(mode: Any) -> SnapshotFixture:
        snaps = toron.Snapshots(tmp_path / "snapshots", update=mode == "update")
        return SnapshotFixture(snaps, "m/t", mode, _Ledger(), f"t-{mode}")

    fixture("update").check(golden, redact=options.get("redact"))
    before = tree(tmp_path / "snapshots")
    checked = fixture("check").check(value, **options)
    assert tree(tmp_path / "snapshots") == before
    plain = fixture("normal").check(value, **options)
    assert (checked.passed, plain.passed) == (equal, equal), checked.diff and checked.diff.patch
    if not equal:
        assert checked.diff is not None and plain.diff is not None
        assert checked.diff.patch == plain.diff.patch and checked.summary() == plain.summary()
        assert (checked.pending_path, plain.pending_path) == (
            None,
            str(tmp_path / "snapshots" / "m" / "t.json.new"),
        )


def test_diff_options_through_assert_match_and_bad_options(tmp_path: Path) -> None:
    module = """
    import pytest

    def test_opts(snapshot):
        snapshot.assert_match(
            {"at": "AT", "users": [{"id": "a", "x": X}, {"id": "b", "x": 2.0}], "token": "TOKEN"},
            keys={"/users": "id"}, ignore=["/at"], tolerance=0.01, redact=["/token"],
        )

    def test_bad(snapshot):
        snapshot.assert_match({"a": 1}, ignore="/a")
    """
    write(tmp_path / "test_opts.py", module.replace("AT", "10:00").replace("X", "1.0").replace("TOKEN", "s3"))
    assert pytest_run(tmp_path, "--snapshot-update", "-k", "not bad").returncode == 0
    golden = (tmp_path / "snapshots" / "test_opts" / "test_opts.json").read_text()
    assert "[REDACTED]" in golden and '"s3"' not in golden
    write(
        tmp_path / "test_opts.py", module.replace("AT", "11:00").replace("X", "1.005").replace("TOKEN", "t")
    )
    for mode in ([], ["--snapshot-check"]):
        r = pytest_run(tmp_path, *mode)
        assert r.returncode == 1 and "1 failed, 1 passed" in r.stdout, out(r)
        assert "ignore must be a list of path patterns, not a string" in r.stdout
    write(tmp_path / "test_opts.py", module.replace("X", "1.5"))
    r = pytest_run(tmp_path, "--snapshot-check", "-k", "not bad")
    assert r.returncode == 1 and "~ /users/0/x: 1 -> 1.5" in r.stdout, out(r)


UNUSED = """
import pytest

def test_fails_first(snapshot):
    assert FAIL
    snapshot.assert_match({"f": 1})

def test_a(snapshot):
    snapshot.assert_match({"a": 1})
    snapshot.assert_match({"a": 2})

def test_b(snapshot):
    snapshot.assert_match({"b": 1}, name="named")

@pytest.mark.skip(reason="not on this platform")
def test_skipped(snapshot):
    snapshot.assert_match({"s": 1})
"""


def test_unused_goldens_only_on_full_runs(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    write(tmp_path / "test_m.py", UNUSED.replace("FAIL", "True"))
    assert pytest_run(tmp_path, "--snapshot-update").returncode == 0
    up = toron.Snapshots(root, update=True)
    for case in [
        "test_m/test_skipped",
        "test_m/test_gone",
        "test_m/test_gone/x",
        "test_m/test_a-3",
        "other/test_x",
    ]:
        up.check(case, 1)
    up.check("test_m/test_gone-9", 1, update=False)  # a stale candidate alone
    write(tmp_path / "test_m.py", UNUSED.replace("FAIL", "False"))
    stale = ["test_m/test_a-3", "test_m/test_gone", "test_m/test_gone/x"]

    def reported(r: subprocess.CompletedProcess[str]) -> list[str]:
        lines = r.stdout.splitlines()
        if not any(line.startswith("unused golden files under") for line in lines):
            return []
        start = next(i for i, line in enumerate(lines) if line.startswith("unused golden files under"))
        return [line.strip() for line in lines[start + 1 :] if line.startswith("  ")][: len(stale) + 1]

    full = pytest_run(tmp_path)
    assert full.returncode == 1, out(full)
    # Not the skipped test's nor the failed one's (never reached), nor a module that did not run.
    assert reported(full) == [*stale, "test_m/test_gone-9.json.new"], full.stdout
    assert "(not deleted; --snapshot-update on a full run removes them)" in full.stdout
    partial_runs = [
        ["-k", "test_a or test_b"],
        ["-m", "not slow"],
        ["test_m.py::test_a", "test_m.py::test_b"],
        ["--deselect", "test_m.py::test_fails_first"],
        ["-x"],
        ["--lf"],
    ]
    for args in partial_runs:
        r = pytest_run(tmp_path, "--snapshot-update", *args)
        assert r.returncode in (0, 1), out(r)
        assert "unused golden" not in r.stdout, (args, r.stdout)
    assert set(stale) <= set(up.cases())
    removed = pytest_run(tmp_path, "--snapshot-update")
    assert removed.returncode == 1 and "unused golden files under" in removed.stdout, out(removed)
    assert "(removed)" in removed.stdout
    assert up.cases() == [
        "other/test_x",
        "test_m/test_a",
        "test_m/test_a-2",
        "test_m/test_b/named",
        "test_m/test_fails_first",
        "test_m/test_skipped",
    ]
    assert up.pending_cases() == [] and not (root / "test_m" / "test_gone").exists()
    assert "unused golden" not in pytest_run(tmp_path).stdout


def test_xdist_two_workers_lose_and_double_nothing(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    for m in range(3):
        write(
            tmp_path / f"test_par{m}.py",
            f"""
            import pytest

            @pytest.mark.parametrize("i", range(20))
            def test_value(snapshot, i):
                snapshot.check({{"module": {m}, "i": i}})
                assert snapshot == [i, VERSION]
            """.replace("VERSION", "1"),
        )
    expected = {
        f"test_par{m}/test_value_{i}{suffix}": value
        for m in range(3)
        for i in range(20)
        for suffix, value in [("", {"module": m, "i": i}), ("-2", [i, 1])]
    }
    snaps = toron.Snapshots(root, update=False)
    first = pytest_run(tmp_path, "-n", "2")
    assert first.returncode == 1 and "60 failed" in first.stdout, out(first)
    assert snaps.pending_cases() == sorted(expected) and snaps.cases() == []
    assert {p.case: p.candidate for p in snaps.pending()} == expected
    up = pytest_run(tmp_path, "-n", "2", "--snapshot-update")
    assert up.returncode == 0 and "60 passed" in up.stdout, out(up)
    assert snaps.cases() == sorted(expected) and snaps.pending_cases() == []
    assert {c: snaps.read(c) for c in snaps.cases()} == expected
    # Unused goldens: reported once, by the controller, on a full run only; removed under update only.
    toron.Snapshots(root, update=True).check("test_par1/test_value_99", 1)
    before = tree(root)
    check = pytest_run(tmp_path, "-n", "2", "--snapshot-check")
    assert check.returncode == 0, out(check)
    assert check.stdout.count("test_par1/test_value_99") == 1, check.stdout
    assert tree(root) == before
    partial = pytest_run(tmp_path, "-n", "2", "--snapshot-update", "-k", "test_value and not 3")
    assert partial.returncode == 0 and "test_value_99" not in partial.stdout, out(partial)
    assert Path(snaps.golden_path("test_par1/test_value_99")).exists()
    removed = pytest_run(tmp_path, "-n", "2", "--snapshot-update")
    assert removed.returncode == 0 and "(removed)" in removed.stdout, out(removed)
    assert snaps.cases() == sorted(expected)

    # Two tests claiming one golden on different workers: an error of the run, found on the controller.
    for m in range(2):
        write(
            tmp_path / f"test_par{m}.py",
            """
            def test_shared(snapshot):
                snapshot.assert_match({"x": 1}, name="shared/case")
            """,
        )
    (tmp_path / "test_par2.py").unlink()
    clash = pytest_run(tmp_path, "-n", "2", "--dist", "loadfile", "--snapshot-update")
    assert clash.returncode == 1, out(clash)
    # Both on one worker: the second test fails at once; on two: the controller's merge finds them.
    assert "checked by two tests" in clash.stdout or "is already checked by" in clash.stdout, clash.stdout
    assert "shared/case" in clash.stdout


SEEDS = """
from pathlib import Path

import pytest
import toron

HERE = Path(__file__).parent

@pytest.mark.toron_seeds(range(10))
def test_each(seed):
    assert seed != 7

@pytest.mark.toron_seeds([3, 11])
def test_simulated(seed, toron_scenario):
    outcome = toron_scenario("scen.toml")
    assert outcome.seed == seed
    assert outcome.digest == toron.simulate(toron.Scenario.from_file(HERE / "scen.toml"), seed).digest
    assert seed != 11, outcome.digest

def test_forms(toron_scenario):
    sc = toron.Scenario.from_file(HERE / "scen.toml")
    assert toron_scenario(sc).seed == 0 and toron_scenario(sc, seed=5).seed == 5
    assert toron_scenario(sc.to_dict(), 5) == toron_scenario("scen.toml", seed=5)
    assert toron_scenario(str(HERE / "scen.toml"), 5).seed == 5
    with pytest.raises(TypeError, match="expected a scenario file path, a toron.Scenario or a dict"):
        toron_scenario(42)
    with pytest.raises(toron.IoError):
        toron_scenario("missing.toml")
"""

SCENARIO = """
name = "seeded"
stop = { requests = 50 }

[[node]]
id = "server"
model = "echo"

[network]
latency = { dist = "exponential", mean = "5ms" }

[load]
mode = "closed"
clients = 2
target = "server"
"""


def test_seeds_parametrise_and_a_failing_seed_prints_its_reproduction(tmp_path: Path) -> None:
    write(tmp_path / "scen.toml", SCENARIO)
    write(tmp_path / "test_seeds.py", SEEDS)
    r = pytest_run(tmp_path, "-vv")
    assert r.returncode == 1 and "2 failed, 11 passed" in r.stdout, out(r)
    ids = re.findall(r"::(test_each\[seed=\d+\]) ", r.stdout)
    assert ids[:10] == [f"test_each[seed={s}]" for s in range(10)]
    # Each failing seed's commands, in its failure report (and again in the summary, indented).
    lines = r.stdout.splitlines()
    commands = [line for line in lines if line.startswith(("pytest '", "toron simulate"))]
    assert commands == [
        "pytest 'test_seeds.py::test_each[seed=7]'",
        "pytest 'test_seeds.py::test_simulated[seed=11]'",
        "toron simulate scen.toml --seed 11",
    ], r.stdout
    assert all(f"  {c}" in lines for c in commands)
    # They reproduce: the one seed fails again; the simulation gives the digest the test saw.
    again = pytest_run(tmp_path, *shlex.split(commands[0])[1:])
    assert again.returncode == 1 and "1 failed in" in again.stdout, out(again)
    scenario = toron.Scenario.from_file(tmp_path / "scen.toml")
    digest = toron.simulate(scenario, 11).digest
    assert digest in r.stdout and digest != toron.simulate(scenario, 3).digest
    sim = subprocess.run(
        [sys.executable, "-m", "toron", *shlex.split(commands[2])[1:]],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"digest {digest}" in sim.stdout, sim.stdout + sim.stderr
    # Run from another directory, the paths are the ones to type there.
    sub = tmp_path / "sub"
    sub.mkdir()
    elsewhere = pytest_run(sub, "-c", str(tmp_path / "pytest.ini"), str(tmp_path), "-k", "simulated")
    lines = elsewhere.stdout.splitlines()
    assert "pytest '../test_seeds.py::test_simulated[seed=11]'" in lines, out(elsewhere)
    assert "toron simulate ../scen.toml --seed 11" in lines


def test_seed_marker_misuse_is_a_named_collection_error(tmp_path: Path) -> None:
    cases = {
        "toron_seeds(5)": "takes the seeds, e.g. toron_seeds(range(100)) or [5], not a bare number",
        "toron_seeds([1, -1])": "toron_seeds seed 1 is -1, expected a whole number from 0 to 2**64-1",
        "toron_seeds([1, 1])": "toron_seeds seed 1 is given twice",
        "toron_seeds([])": "got no seed",
        "toron_seeds('12')": "got str",
    }
    for i, (marker, message) in enumerate(cases.items()):
        write(
            tmp_path / f"test_bad{i}.py",
            f"import pytest\n\n@pytest.mark.{marker}\ndef test_x(seed):\n    pass\n",
        )
    write(
        tmp_path / "test_noarg.py",
        "import pytest\n\n@pytest.mark.toron_seeds([1])\ndef test_x():\n    pass\n",
    )
    r = pytest_run(tmp_path)
    assert r.returncode == pytest.ExitCode.INTERRUPTED and f"{len(cases) + 1} errors" in r.stdout, out(r)
    for i, message in enumerate(cases.values()):
        assert f"test_bad{i}.py::test_x: " in r.stdout and message in r.stdout, (message, r.stdout)
    assert "test_noarg.py::test_x: @pytest.mark.toron_seeds needs a `seed` argument" in r.stdout


def test_a_case_belongs_to_one_test_and_one_check(tmp_path: Path) -> None:
    ledger = _Ledger()
    snaps = toron.Snapshots(tmp_path, update=True)
    first = SnapshotFixture(snaps, "m/test_a", "update", ledger, "m.py::test_a")
    first.check(1, name="shared/x")
    with pytest.raises(pytest.fail.Exception, match="'shared/x' is checked twice by this test"):
        first.check(2, name="shared/x")
    other = SnapshotFixture(snaps, "m/test_b", "update", ledger, "m.py::test_b")
    with pytest.raises(pytest.fail.Exception, match="'shared/x' is already checked by m.py::test_a"):
        other.check(3, name="shared/x")
    assert snaps.read("shared/x") == 1
    # A rerun of the same test (a new fixture, the same node id) may check it again.
    SnapshotFixture(snaps, "m/test_a", "update", ledger, "m.py::test_a").check(1, name="shared/x")


def test_worker_ledgers_merge_on_the_controller() -> None:
    a = _Ledger(collected=["t::a", "t::b"], finished={"t::a"})
    a.seen = {"/s": {"m/x": "t::a", "m/y": "t::a"}}
    b = _Ledger.from_wire(_Ledger(collected=["t::a", "t::b"], finished={"t::b"}, deselected=1).to_wire())
    b.seen = {"/s": {"m/y": "t::b", "m/z": "t::b"}}
    merged, conflicts = _merge([a, b])
    assert merged.seen == {"/s": {"m/x": "t::a", "m/y": "t::a", "m/z": "t::b"}}
    assert conflicts == ["m/y (/s): checked by t::a and t::b"]
    assert (merged.collected, merged.finished, merged.deselected) == (["t::a", "t::b"], {"t::a", "t::b"}, 1)
    # Workers that collected different tests: no full run can be told.
    b.collected = ["t::a"]
    assert _merge([a, b])[0].collected is None
