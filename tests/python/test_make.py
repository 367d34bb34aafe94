"""The Makefile's operations-guide targets: the extension is rebuilt only when something it is built from
changed, and bad arguments are rejected before any build."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")

# The stamp of the profile `make python-build` builds with here (`make test` exports PY_PROFILE=dev).
STAMP = REPO / ".venv" / f".toron-built-{os.environ.get('PY_PROFILE', 'release')}"


def make(*args: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`make ARGS` in the repository, without this make's MAKE* variables (and the variables `drop`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k not in drop}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_build_is_a_no_op_on_an_unchanged_tree() -> None:
    if not STAMP.is_file():
        pytest.skip("the extension was not built by `make python-build` here")
    inputs = [REPO / "Cargo.lock", REPO / "pyproject.toml"]
    for top in ("toron-core", "toron-py", "toron-server", "python/toron"):
        inputs += [p for p in (REPO / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    if max(p.stat().st_mtime for p in inputs) > STAMP.stat().st_mtime:
        pytest.skip("a source changed since the last `make python-build`: the build is stale on purpose")
    assert make("-q", "python-build").returncode == 0
    dry = make("-n", "testops-regression")
    assert "maturin" not in dry.stdout, dry.stdout


@pytest.mark.parametrize(
    "source", ["toron-core/src/lib.rs", "toron-py/src/lib.rs", "Cargo.lock", "pyproject.toml"]
)
def test_python_build_rebuilds_when_a_source_changes(source: str) -> None:
    assert (REPO / source).is_file()
    # -W: as if the file had just been modified (nothing is touched); -n: print the commands only.
    dry = make("-n", "-W", source, "python-build")
    assert dry.returncode == 0, dry.stderr
    assert "maturin develop" in dry.stdout, dry.stdout


def test_chaos_smoke_rejects_an_unknown_mode_before_building() -> None:
    out = make("chaos-smoke", "MODE=real")
    assert out.returncode == 2
    assert "MODE=real is not a mode (expected one of: mock)" in out.stderr, out.stderr
    assert "maturin" not in out.stdout + out.stderr


def test_make_test_builds_the_dev_profile_under_the_dev_stamp() -> None:
    # The stamp names the profile the extension was built with: `make test` building dev under the release
    # stamp made a later `make bench` time the dev build.
    for goal, profile in (("test", "dev"), ("bench", "release"), ("python-build", "release")):
        dry = make("-n", "-W", "Cargo.lock", goal, drop=("PY_PROFILE",))
        assert dry.returncode == 0, dry.stderr
        assert f"maturin develop --profile {profile}" in dry.stdout, (goal, dry.stdout[-2000:])
        assert f"touch .venv/.toron-built-{profile}" in dry.stdout, (goal, dry.stdout[-2000:])
