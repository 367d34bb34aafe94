"""The operations guide's scripts and the shipped example project, on a temporary copy of
`examples/testops/`: `python sim/run_suite.py --profile offline`, `python tools/snapshot_replay.py --run-id <id>
--offline`, and the demo's second part (full GO, broken NO-GO)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, child_env

IGNORE = shutil.ignore_patterns(".toron", "reports", "coverage*.xml", ".coverage*", "__pycache__", "*.new")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "testops"
    shutil.copytree(REPO / "examples" / "testops", dest, ignore=IGNORE)
    return dest


def script(path: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = child_env()
    # The project's unit suite runs `python -m pytest`: this interpreter's environment has pytest.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [sys.executable, str(REPO / path), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_run_suite_runs_the_offline_profile_in_process_and_replay_reproduces_it(project: Path) -> None:
    out = script("sim/run_suite.py", "--profile", "offline", "--manifest", str(project / "testops.toml"))
    assert out.returncode == 0, out.stdout + out.stderr
    found = re.search(r"^run (run-2\.5\.0-\d{8}T\d{6}Z(?:-\d+)?)$", out.stdout, re.MULTILINE)
    assert found, out.stdout
    run_id = found.group(1)
    assert "  passed     sim/checkout" in out.stdout
    assert "  passed     hardening/checkout-repeat" in out.stdout
    assert "verdict GO" in out.stdout
    assert (project / "reports" / run_id / "index.html").is_file()

    # The working tree's scenario changes: replay still uses the archived one.
    checkout = project / "scenarios" / "checkout.toml"
    checkout.write_text(checkout.read_text().replace("2_000", "3_000"))
    replay = script(
        "tools/snapshot_replay.py", "--run-id", run_id, "--offline", "--archive", str(project / ".toron")
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"run {run_id}" in replay.stdout
    assert "  identical     sim/checkout" in replay.stdout
    assert "  identical     hardening/checkout-repeat" in replay.stdout
    assert replay.stdout.rstrip().endswith("identical")

    unknown = script(
        "tools/snapshot_replay.py",
        "--run-id",
        "run-2.5.0-20000101T000000Z",
        "--offline",
        "--archive",
        str(project / ".toron"),
    )
    assert unknown.returncode == 2
    assert run_id in unknown.stderr, "the newest ids are listed"


def test_run_suite_exits_2_on_a_bad_manifest(tmp_path: Path) -> None:
    (tmp_path / "testops.toml").write_text('[[suite]]\nname = "x"\nflavour = 1\n')
    out = script("sim/run_suite.py", "--manifest", str(tmp_path / "testops.toml"))
    assert out.returncode == 2
    assert "testops.toml:3" in out.stderr and "flavour" in out.stderr, out.stderr


def test_the_example_project_is_go_in_full_and_no_go_when_broken(project: Path) -> None:
    out = script("examples/python/testops_demo.py", str(project))
    assert out.returncode == 0, out.stdout + out.stderr
    full, broken = out.stdout.split("examples/testops, profile broken:", 1)
    assert re.search(r"run run-\S+: GO", full), full
    for case in [
        "lint/ruff",
        "unit/backend",
        "sim/checkout",
        "hardening/checkout-repeat",
        "chaos/kv-bug-found",
    ]:
        assert f"passed     {case}" in full, case
    assert re.search(r"run run-\S+: NO-GO", broken), broken
    assert "failed     sim-drifted/queue" in broken
    assert "failed     chaos-unguarded/kv-bug" in broken
    assert "coverage >= 90%: Failed: coverage for unit-partial is" in broken
    assert "as expected: full is GO, broken is NO-GO" in out.stdout
    # The NO-GO opened a warroom incident ([warroom] open_on = "no-go"), and its postmortem was written.
    assert re.search(r"incident INC-1 \(sev2, open\) opened: NO-GO on profile broken", broken), broken
    assert f"postmortem: {project / 'warroom' / 'postmortems' / 'INC-1.md'}" in broken
    assert (project / "warroom" / "postmortems" / "INC-1.md").is_file()
    # A run never deletes a golden; the candidate of the mismatch is written beside it (not in CI).
    assert (project / "snapshots" / "sim-drifted" / "queue.json").is_file()


def bare_python() -> tuple[str, dict[str, str]]:
    """A plain ``python`` as a new user's fresh shell has it: the base interpreter of the venv (not the
    venv's), with no PYTHONPATH and no .venv on PATH, so ``import toron`` fails there."""
    base = getattr(sys, "_base_executable", None) or str(Path(sys.base_prefix) / "bin" / "python3")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "SIM_SEED")}
    env["PATH"] = os.pathsep.join(
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and ".venv" not in p and p != str(Path(sys.executable).parent)
    )
    probe = subprocess.run([base, "-c", "import toron"], env=env, capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        pytest.skip(f"{base} can import toron itself: no bare interpreter to test with")
    return base, env


def test_the_guide_scripts_work_with_a_bare_python_by_re_running_under_the_venv(project: Path) -> None:
    python, env = bare_python()
    run = subprocess.run(
        [
            python,
            str(REPO / "sim/run_suite.py"),
            "--profile",
            "offline",
            "--manifest",
            str(project / "testops.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "re-running under" in run.stderr and ".venv" in run.stderr, run.stderr
    assert run.stderr.count("note:") == 1, run.stderr
    found = re.search(r"^run (run-2\.5\.0-\S+)$", run.stdout, re.MULTILINE)
    assert found, run.stdout
    replay = subprocess.run(
        [
            python,
            str(REPO / "tools/snapshot_replay.py"),
            "--run-id",
            found.group(1),
            "--offline",
            "--archive",
            str(project / ".toron"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "re-running under" in replay.stderr, replay.stderr
    assert replay.stdout.rstrip().endswith("identical")


@pytest.mark.parametrize("name", ["sim/run_suite.py", "tools/snapshot_replay.py"])
def test_a_guide_script_without_a_venv_says_how_to_make_one(tmp_path: Path, name: str) -> None:
    python, env = bare_python()
    copy = tmp_path / name
    copy.parent.mkdir(parents=True)
    shutil.copy(REPO / name, copy)
    # The scripts' shared re-exec helper, as in the repository.
    (tmp_path / "tools").mkdir(exist_ok=True)
    shutil.copy(REPO / "tools" / "_toron_venv.py", tmp_path / "tools" / "_toron_venv.py")
    out = subprocess.run([python, str(copy), "--help"], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "make setup python-build" in out.stderr and "does not exist" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
