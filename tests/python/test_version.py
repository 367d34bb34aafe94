"""One version source: the workspace Cargo.toml, seen as toron.__version__ and in every Outcome."""

from __future__ import annotations

import re

import toron
from conftest import REPO, load


def workspace_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1]
    match = re.search(r'^version\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert match, "no version in [workspace.package]"
    return match.group(1)


def test_version_is_the_crate_version() -> None:
    assert toron.__version__ == "2.5.0"
    assert toron.__version__ == workspace_version()


def test_outcome_records_the_engine_version() -> None:
    assert toron.simulate(load("echo"), seed=1).engine == toron.__version__


def test_all_is_explicit_and_complete() -> None:
    for name in toron.__all__:
        assert hasattr(toron, name), name
    ours = {
        n
        for n in dir(toron)
        if not n.startswith("_") and str(getattr(getattr(toron, n), "__module__", "")).startswith("toron")
    }
    assert ours <= set(toron.__all__)
