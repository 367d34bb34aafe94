"""pytest plugin (registered through the ``pytest11`` entry point): a ``snapshot`` fixture and
``--snapshot-update``.

>>> def test_totals(snapshot):
...     snapshot.assert_match({"total": 36, "items": [1, 2]})        # case "<module>/test_totals"
...     snapshot.assert_match(report(), name="report", ignore=["/at"])

Goldens live in ``snapshots/`` beside the test file (``--snapshot-dir`` or the ``toron_snapshot_dir`` ini
option change it; a relative path is taken from the rootdir). A mismatch or a missing golden fails the test and
leaves ``<case>.json.new`` for ``toron snapshot review``; with ``--snapshot-update`` (or
``TORON_SNAPSHOT_UPDATE=1``) the golden is written instead. Goldens no test checked are reported at the end of
a full run (never deleted).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import toron

_SEEN_KEY = pytest.StashKey[dict[str, set[str]]]()
_FAILED_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("toron", "toron snapshots")
    group.addoption(
        "--snapshot-update",
        action="store_true",
        default=False,
        help="write golden files instead of pending candidates (as TORON_SNAPSHOT_UPDATE=1 does)",
    )
    group.addoption(
        "--snapshot-dir",
        default=None,
        metavar="DIR",
        help="the golden-file directory (default: snapshots/ beside each test file)",
    )
    parser.addini("toron_snapshot_dir", "the golden-file directory of the snapshot fixture", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SEEN_KEY] = {}
    config.stash[_FAILED_KEY] = []


def _segment(text: str) -> str:
    """A case-name segment from a test name: parameters kept, unsafe characters replaced."""
    s = re.sub(r"[^A-Za-z0-9_.\-=+,@]", "_", text).strip("_.") or "_"
    return s[:200]


class SnapshotFixture:
    """The ``snapshot`` fixture: checks values against the golden files of one test."""

    def __init__(self, snaps: toron.Snapshots, case_prefix: str, seen: set[str], failed: list[str]) -> None:
        self.snapshots = snaps
        self._prefix = case_prefix
        self._seen = seen
        self._failed = failed
        self._count = 0

    def case(self, name: str | None = None) -> str:
        """The case name a check with `name` uses (without `name`: the test's, then ``-2``, ``-3``...)."""
        if name is not None:
            return f"{self._prefix}/{_segment(name)}" if "/" not in name else name
        self._count += 1
        return self._prefix if self._count == 1 else f"{self._prefix}-{self._count}"

    def check(self, value: Any, name: str | None = None, **options: Any) -> toron.CheckResult:
        """Check `value` against its golden without failing (the diff options of `toron.diff` apply)."""
        case = self.case(name)
        self._seen.add(case)
        result = self.snapshots.check(case, value, **options)
        if not result.passed:
            self._failed.append(case)
        return result

    def assert_match(self, value: Any, name: str | None = None, **options: Any) -> None:
        """Fail the test when `value` differs from its golden (or none exists), showing the diff."""
        __tracebackhide__ = True
        result = self.check(value, name, **options)
        if result.passed:
            return
        d = result.diff
        shown = d.render("text") if d is not None and not result.golden_missing else ""
        pytest.fail(
            f"snapshot {result.case!r}: {result.summary()}\n{shown}\n"
            f"candidate written to {result.pending_path}; review it with `toron snapshot review "
            f"--root {self.snapshots.root}`, or rerun with --snapshot-update",
            pytrace=False,
        )

    __call__ = assert_match

    def __eq__(self, value: object) -> bool:
        """``assert snapshot == value`` checks `value` (the golden is the left side of the diff)."""
        return bool(self.check(value))

    __hash__ = None  # type: ignore[assignment]


def _root(request: pytest.FixtureRequest) -> Path:
    config = request.config
    configured = config.getoption("--snapshot-dir") or config.getini("toron_snapshot_dir")
    if configured:
        path = Path(str(configured))
        return path if path.is_absolute() else Path(config.rootpath) / path
    return Path(request.path).parent / "snapshots"


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Iterator[SnapshotFixture]:
    """Check values against golden files: ``snapshot.assert_match(value)`` or ``assert snapshot == value``."""
    root = _root(request)
    update = True if request.config.getoption("--snapshot-update") else None
    snaps = toron.Snapshots(root, update=update)
    module = _segment(Path(request.path).stem)
    prefix = f"{module}/{_segment(request.node.name)}"
    seen = request.config.stash[_SEEN_KEY].setdefault(os.fspath(root), set())
    yield SnapshotFixture(snaps, prefix, seen, request.config.stash[_FAILED_KEY])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    failed = config.stash.get(_FAILED_KEY, [])
    if failed:
        terminalreporter.write_sep("-", "toron snapshots")
        terminalreporter.write_line(
            f"{len(failed)} snapshot(s) differ; review with `toron snapshot review` or rerun with "
            "--snapshot-update"
        )
    seen_by_root = config.stash.get(_SEEN_KEY, {})
    # Unused goldens are only meaningful when whole modules ran (no -k, -m, -x or node ids) and all passed.
    if not seen_by_root or exitstatus != 0:
        return
    if config.getoption("keyword", "") or config.getoption("markexpr", "") or config.getoption("maxfail", 0):
        return
    if any("::" in str(a) for a in config.args):
        return
    for root, seen in sorted(seen_by_root.items()):
        try:
            unused = toron.Snapshots(root, update=False).unused(sorted(seen))
        except toron.Error:
            continue
        modules = {c.split("/", 1)[0] for c in seen}
        unused = [c for c in unused if c.split("/", 1)[0] in modules]
        if unused:
            terminalreporter.write_sep("-", "toron snapshots")
            terminalreporter.write_line(f"unused golden files under {root} (not deleted):")
            for case in unused:
                terminalreporter.write_line(f"  {case}")
