"""pytest plugin (registered through the ``pytest11`` entry point): golden files, seeds and scenarios.

>>> def test_totals(snapshot):
...     snapshot.assert_match({"total": 36, "items": [1, 2]})        # case "<module>/test_totals"
...     snapshot.assert_match(report(), name="report", ignore=["/at"], tolerance=0.01)
...     assert summary() == snapshot                                   # case "<module>/test_totals-3"
>>> @pytest.mark.toron_seeds(range(100))
... def test_kv_never_loses_a_write(seed, toron_scenario):
...     assert not toron_scenario("kv.toml").violations                # simulated with `seed`

Goldens live in ``snapshots/`` beside the test file (``--snapshot-dir`` or the ``toron_snapshot_dir`` ini
option change it; a relative path is taken from the rootdir), one case per check: ``<module>/<test>`` (with
``<Class>/`` between them for methods), then ``-2``, ``-3``... or ``<module>/<test>/<name>``.

Three modes. By default a mismatch or a missing golden fails the test with the diff rendered as ``toron diff``
renders it and leaves ``<case>.json.new`` for ``toron snapshot review``. ``--snapshot-update`` (or
``TORON_SNAPSHOT_UPDATE=1``) writes the golden instead. ``--snapshot-check`` (for CI) writes nothing at all,
not even the candidate, and fails the same way; it cannot be combined with update.

Unused goldens (in the modules that checked at least one case) are reported at the end of a full run only:
no ``-k``, ``-m``, ``--lf``, node ids or other deselection, and every collected test ran, in this process or
on an xdist worker. The goldens of a test that failed or was skipped are never counted as unused. With
``--snapshot-update`` they are removed. Under ``pytest -n N`` every worker reports what it checked and ran to
the controller, which does this once; a case two tests check is an error.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import pytest

import toron
from toron import _toron

_Mode = Literal["normal", "update", "check"]
#: What ``toron_scenario`` accepts: a scenario file, a validated scenario, or the file's structure.
ScenarioLike = Union[str, "os.PathLike[str]", toron.Scenario, Mapping[str, Any]]

_MARKER = "toron_seeds"
_SECTION = "toron: reproduce"
_WIRE_KEY = "toron_snapshots"
_PLUGIN_NAME = "toron-run-hooks"


@dataclass
class _Ledger:
    """What one process checked and ran: the basis of the end-of-run report. Under xdist each worker ships
    its own to the controller (as plain lists, through ``workeroutput``), which merges them."""

    #: root -> case -> node id of the test that checked it.
    seen: dict[str, dict[str, str]] = field(default_factory=dict)
    #: root -> cases whose check failed.
    failed: dict[str, list[str]] = field(default_factory=dict)
    #: root -> case prefixes of tests that failed or were skipped (their goldens are never unused).
    unclean: dict[str, set[str]] = field(default_factory=dict)
    #: The node ids left after collection and deselection (None: this process did not collect).
    collected: list[str] | None = None
    deselected: int = 0
    #: The node ids whose whole run protocol (setup, call, teardown) finished.
    finished: set[str] = field(default_factory=set)

    def to_wire(self) -> dict[str, Any]:
        return {
            "seen": {r: sorted(c.items()) for r, c in sorted(self.seen.items())},
            "failed": {r: list(c) for r, c in sorted(self.failed.items())},
            "unclean": {r: sorted(p) for r, p in sorted(self.unclean.items())},
            "collected": self.collected,
            "deselected": self.deselected,
            "finished": sorted(self.finished),
        }

    @staticmethod
    def from_wire(w: Mapping[str, Any]) -> _Ledger:
        return _Ledger(
            seen={r: {c: n for c, n in items} for r, items in w["seen"].items()},
            failed={r: list(c) for r, c in w["failed"].items()},
            unclean={r: set(p) for r, p in w["unclean"].items()},
            collected=None if w["collected"] is None else list(w["collected"]),
            deselected=int(w["deselected"]),
            finished=set(w["finished"]),
        )


@dataclass
class _Controller:
    """The xdist controller's view: the workers that came up and the ledgers they sent back."""

    ready: set[str] = field(default_factory=set)
    ledgers: dict[str, _Ledger] = field(default_factory=dict)


@dataclass
class _Summary:
    """What the end of the run reports (computed in ``pytest_sessionfinish``, printed in the summary)."""

    mode: _Mode
    failed: dict[str, list[str]] = field(default_factory=dict)
    unused: dict[str, list[str]] = field(default_factory=dict)
    stale: dict[str, list[str]] = field(default_factory=dict)
    removed: bool = False
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reproduce: dict[str, list[str]] = field(default_factory=dict)


_MODE_KEY = pytest.StashKey[_Mode]()
_LEDGER_KEY = pytest.StashKey[_Ledger]()
_SIMULATED_KEY = pytest.StashKey[list[tuple[Union[str, None], int]]]()
_REPORTED_KEY = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("toron", "toron snapshots")
    group.addoption(
        "--snapshot-update",
        action="store_true",
        default=False,
        help="write golden files instead of pending candidates (as TORON_SNAPSHOT_UPDATE=1 does); on a full "
        "run, also remove unused goldens",
    )
    group.addoption(
        "--snapshot-check",
        action="store_true",
        default=False,
        help="for CI: write nothing, not even pending candidates; a mismatch or a missing golden fails",
    )
    group.addoption(
        "--snapshot-dir",
        default=None,
        metavar="DIR",
        help="the golden-file directory (default: snapshots/ beside each test file)",
    )
    parser.addini("toron_snapshot_dir", "the golden-file directory of the snapshot fixture", default="")


def pytest_configure(config: pytest.Config) -> None:
    update_option = bool(config.getoption("--snapshot-update"))
    # The environment is read the way the core reads it (TORON_SNAPSHOT_UPDATE=1 or true).
    update_env = toron.Snapshots(".", update=None).update
    check = bool(config.getoption("--snapshot-check"))
    if check and (update_option or update_env):
        cause = "--snapshot-update" if update_option else "TORON_SNAPSHOT_UPDATE in the environment"
        raise pytest.UsageError(
            f"--snapshot-check never writes goldens and {cause} writes them: use one or the other"
        )
    config.stash[_MODE_KEY] = "check" if check else "update" if update_option or update_env else "normal"
    config.stash[_LEDGER_KEY] = _Ledger()
    config.pluginmanager.register(_RunHooks(config), _PLUGIN_NAME)
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(seeds): run the test once per seed (ids seed=N), passing it as the test's `seed` "
        "argument; a failing seed prints its reproduction command",
    )


def _segment(text: str) -> str:
    """A case-name segment from a test name: parameters kept, unsafe characters replaced."""
    s = re.sub(r"[^A-Za-z0-9_.\-=+,@]", "_", text).strip("_.") or "_"
    return s[:200]


def _root(config: pytest.Config, test_path: Path) -> Path:
    configured = config.getoption("--snapshot-dir") or config.getini("toron_snapshot_dir")
    if configured:
        path = Path(str(configured))
        return path if path.is_absolute() else Path(config.rootpath) / path
    return Path(test_path).parent / "snapshots"


def _prefix(item: pytest.Item) -> str:
    """``<module>/<test>``, with the classes between (two classes may have methods of the same name)."""
    parts = [_segment(Path(item.path).stem)]
    parts += [_segment(n.name) for n in item.listchain() if isinstance(n, pytest.Class)]
    parts.append(_segment(item.name))
    return "/".join(parts)


@dataclass(frozen=True)
class SnapshotResult:
    """The outcome of one check of the ``snapshot`` fixture; ``bool(r)`` is ``r.passed``."""

    case: str
    #: ``passed``, ``failed``, ``created`` or ``updated`` (the last two only with ``--snapshot-update``).
    status: str
    #: Whether there was no golden before the check.
    golden_missing: bool
    golden_path: str
    #: The candidate a failed check left for review; None under ``--snapshot-check``, which writes nothing.
    pending_path: str | None
    #: From the golden to the value (from null when there is none); None when the check passed.
    diff: toron.Diff | None
    root: str
    mode: _Mode

    @property
    def passed(self) -> bool:
        return self.status != "failed"

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        """One line: ``no golden yet``, ``no differences`` or the diff's counts."""
        if self.golden_missing:
            return "no golden yet"
        return self.diff.summary() if self.diff is not None else "no differences"

    def explain(self) -> list[str]:
        """The failure message: the diff rendered as ``toron diff`` renders it, then what to do."""
        if self.passed:
            lines = [f"snapshot {self.case!r}: {self.summary()}"]
        elif self.golden_missing:
            lines = [f"snapshot {self.case!r}: no golden yet"]
        else:
            lines = [f"snapshot {self.case!r} differs from its golden"]
        if self.diff is not None:
            lines += self.diff.render("text").rstrip("\n").splitlines()
        lines.append(f"golden: {self.golden_path}" + (" (missing)" if self.golden_missing else ""))
        if self.mode == "check":
            lines.append(
                "--snapshot-check wrote nothing: run without it to leave the candidate for review, or rerun "
                "with --snapshot-update"
            )
        elif self.pending_path is not None:
            lines.append(
                f"candidate written to {self.pending_path}; review it with `toron snapshot review --root "
                f"{self.root}`, or rerun with --snapshot-update"
            )
        return lines


class SnapshotFixture:
    """The ``snapshot`` fixture: checks values against the golden files of one test."""

    def __init__(
        self, snaps: toron.Snapshots, prefix: str, mode: _Mode, ledger: _Ledger, nodeid: str
    ) -> None:
        self.snapshots = snaps
        self._prefix = prefix
        self._mode: _Mode = mode
        self._ledger = ledger
        self._nodeid = nodeid
        self._count = 0
        self._checked: set[str] = set()
        #: The result of the latest check (what a failing ``assert value == snapshot`` explains).
        self.last: SnapshotResult | None = None

    def case(self, name: str | None = None) -> str:
        """The case name a check with `name` uses (without `name`: the test's, then ``-2``, ``-3``...)."""
        if name is not None:
            return f"{self._prefix}/{_segment(name)}" if "/" not in name else name
        self._count += 1
        return self._prefix if self._count == 1 else f"{self._prefix}-{self._count}"

    def _claim(self, case: str) -> None:
        """Record that this test checks `case`: once per test, and by no other test of the run."""
        __tracebackhide__ = True
        root = self.snapshots.root
        if case in self._checked:
            pytest.fail(
                f"snapshot case {case!r} is checked twice by this test: give each check its own name",
                pytrace=False,
            )
        seen = self._ledger.seen.setdefault(root, {})
        other = seen.get(case)
        if other is not None and other != self._nodeid:
            pytest.fail(
                f"snapshot case {case!r} is already checked by {other} in this run: two tests would share "
                "one golden; give one of them another name",
                pytrace=False,
            )
        self._checked.add(case)
        seen[case] = self._nodeid

    def check(
        self,
        value: Any,
        name: str | None = None,
        *,
        keys: Mapping[str, str] | None = None,
        ignore: Iterable[str] | None = None,
        redact: Iterable[str] | None = None,
        tolerance: float | Mapping[str, float] | None = None,
        tolerances: Mapping[str, float | Mapping[str, float]] | None = None,
        budget: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> SnapshotResult:
        """Check `value` against its golden without failing. The options are those of ``toron.diff`` and
        apply to the comparison only (``redact``ed values are stored as the marker); `meta` is stored with a
        written golden."""
        __tracebackhide__ = True
        case = self.case(name)
        root = self.snapshots.root
        self._claim(case)
        # None is "not given" to the binding too, so they pass through as they are.
        options: dict[str, Any] = {
            "keys": keys,
            "ignore": ignore,
            "redact": redact,
            "tolerance": tolerance,
            "tolerances": tolerances,
            "budget": budget,
        }
        if self._mode == "check":
            result = self._compare(case, value, options, meta)
        else:
            r = self.snapshots.check(case, value, meta=meta, **options)
            result = SnapshotResult(
                r.case, r.status, r.golden_missing, r.golden_path, r.pending_path, r.diff, root, self._mode
            )
        if not result.passed:
            self._ledger.failed.setdefault(root, []).append(case)
        self.last = result
        return result

    def _compare(
        self, case: str, value: Any, options: dict[str, Any], meta: Mapping[str, Any] | None
    ) -> SnapshotResult:
        """``--snapshot-check``: the core's comparison (the golden against the value under the options),
        with no file written or removed."""
        if meta is not None and not isinstance(meta, Mapping):
            _toron._raise_error("invalid_argument", "snapshot meta must be a JSON object", field="meta")
        golden_path = self.snapshots.golden_path(case)  # validates the case name
        golden = self.snapshots.read(case)
        d = toron.diff(golden, value, **options)
        if golden is not None and not d:
            return SnapshotResult(
                case, "passed", False, golden_path, None, None, self.snapshots.root, "check"
            )
        return SnapshotResult(
            case, "failed", golden is None, golden_path, None, d, self.snapshots.root, "check"
        )

    def assert_match(
        self,
        value: Any,
        name: str | None = None,
        *,
        keys: Mapping[str, str] | None = None,
        ignore: Iterable[str] | None = None,
        redact: Iterable[str] | None = None,
        tolerance: float | Mapping[str, float] | None = None,
        tolerances: Mapping[str, float | Mapping[str, float]] | None = None,
        budget: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Fail the test when `value` differs from its golden (or none exists), showing the diff."""
        __tracebackhide__ = True
        result = self.check(
            value,
            name,
            keys=keys,
            ignore=ignore,
            redact=redact,
            tolerance=tolerance,
            tolerances=tolerances,
            budget=budget,
            meta=meta,
        )
        if not result.passed:
            pytest.fail("\n".join(result.explain()), pytrace=False)

    __call__ = assert_match

    def __eq__(self, value: object) -> bool:
        """``assert value == snapshot`` (or ``snapshot == value``) checks `value` as the next unnamed case;
        the golden is the old side of the diff either way."""
        return bool(self.check(value))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<snapshot {self.last.case if self.last is not None else self._prefix!r}>"


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> list[str] | None:
    """A failing ``assert value == snapshot`` explains itself with the check's diff."""
    snap = left if isinstance(left, SnapshotFixture) else right
    if op != "==" or not isinstance(snap, SnapshotFixture) or snap.last is None or snap.last.passed:
        return None
    lines = snap.last.explain()
    state = "no golden yet" if snap.last.golden_missing else "differs from its golden"
    return [f"value {op} snapshot {snap.last.case!r}: {state}", *lines[1:]]


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Iterator[SnapshotFixture]:
    """Check values against golden files: ``snapshot.assert_match(value)`` or ``assert value == snapshot``."""
    config = request.config
    mode = config.stash[_MODE_KEY]
    snaps = toron.Snapshots(_root(config, Path(request.path)), update=mode == "update")
    node = request.node
    prefix = _prefix(node) if isinstance(node, pytest.Item) else _segment(Path(request.path).stem)
    yield SnapshotFixture(snaps, prefix, mode, config.stash[_LEDGER_KEY], node.nodeid)


class ScenarioRunner:
    """The ``toron_scenario`` fixture: ``toron_scenario(scenario, seed=None)`` simulates and returns the
    ``toron.Outcome``. `scenario` is a file (relative paths are taken from the test file's directory), a
    ``toron.Scenario`` or the file's structure as a dict; `seed` defaults to the test's ``toron_seeds`` seed,
    then to the scenario's own (then ``SIM_SEED``, then 0)."""

    def __init__(self, base: Path, default_seed: int | None, record: list[tuple[str | None, int]]) -> None:
        self._base = base
        #: The seed of the test's ``toron_seeds`` parameter, if it has one.
        self.default_seed = default_seed
        self._record = record

    def load(self, scenario: ScenarioLike) -> toron.Scenario:
        """The validated scenario (ScenarioError naming the file and field when it is not valid)."""
        if isinstance(scenario, toron.Scenario):
            return scenario
        if isinstance(scenario, Mapping):
            return toron.Scenario.from_dict(scenario)
        if isinstance(scenario, (str, os.PathLike)):
            path = Path(scenario)
            return toron.Scenario.from_file(path if path.is_absolute() else self._base / path)
        raise TypeError(
            f"toron_scenario: expected a scenario file path, a toron.Scenario or a dict, got "
            f"{type(scenario).__name__}"
        )

    def __call__(self, scenario: ScenarioLike, seed: int | None = None) -> toron.Outcome:
        sc = self.load(scenario)
        outcome = toron.simulate(sc, self.default_seed if seed is None else seed)
        self._record.append((sc.file, outcome.seed))
        return outcome


def _test_seed(item: pytest.Item) -> int | None:
    """The seed ``toron_seeds`` gave this test, if it did."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or item.get_closest_marker(_MARKER) is None:
        return None
    seed = callspec.params.get("seed")
    return seed if isinstance(seed, int) else None


@pytest.fixture
def toron_scenario(request: pytest.FixtureRequest) -> ScenarioRunner:
    """Simulate a scenario (file, ``toron.Scenario`` or dict) with the test's seed; returns the outcome."""
    node = request.node
    record = node.stash.setdefault(_SIMULATED_KEY, [])
    seed = _test_seed(node) if isinstance(node, pytest.Item) else None
    return ScenarioRunner(Path(request.path).parent, seed, record)


def _seeds(marker: pytest.Mark, where: str) -> list[int]:
    """The seeds of a ``toron_seeds`` marker, validated: whole numbers from 0 to 2**64-1, each once."""
    usage = f"{where}: @pytest.mark.{_MARKER} takes the seeds, e.g. {_MARKER}(range(100))"
    if len(marker.args) != 1 or marker.kwargs:
        pytest.fail(f"{usage}; got {len(marker.args)} argument(s) and {sorted(marker.kwargs)}", pytrace=False)
    raw = marker.args[0]
    if isinstance(raw, int):
        pytest.fail(f"{usage} or [{raw}], not a bare number", pytrace=False)
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
        pytest.fail(f"{usage}; got {type(raw).__name__}", pytrace=False)
    seeds = list(raw)
    if not seeds:
        pytest.fail(f"{usage}; got no seed", pytrace=False)
    given: set[int] = set()
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**64:
            pytest.fail(
                f"{where}: {_MARKER} seed {i} is {s!r}, expected a whole number from 0 to 2**64-1",
                pytrace=False,
            )
        if s in given:
            pytest.fail(f"{where}: {_MARKER} seed {s} is given twice", pytrace=False)
        given.add(s)
    return seeds


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(_MARKER)
    if marker is None:
        return
    where = metafunc.definition.nodeid
    seeds = _seeds(marker, where)
    if "seed" not in metafunc.fixturenames:
        pytest.fail(
            f"{where}: @pytest.mark.{_MARKER} needs a `seed` argument to pass the seed in", pytrace=False
        )
    metafunc.parametrize("seed", seeds, ids=[f"seed={s}" for s in seeds])


def _reproduction(item: pytest.Item) -> list[str]:
    """The one-line commands that rerun a failed seeded (or simulating) test, from where pytest was run."""
    simulated = item.stash.get(_SIMULATED_KEY, [])
    if _test_seed(item) is None and not simulated:
        return []
    here = item.config.invocation_params.dir
    nodeid = item.nodeid
    _, sep, rest = nodeid.partition("::")
    target = os.path.relpath(item.path, here) + sep + rest if sep else nodeid
    lines = [f"pytest {shlex.quote(target)}"]
    for file, seed in dict.fromkeys(simulated):
        if file is not None:
            lines.append(f"toron simulate {shlex.quote(os.path.relpath(file, here))} --seed {seed}")
    return lines


def _is_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.get_plugin("dsession") is not None


def _merge(ledgers: list[_Ledger]) -> tuple[_Ledger, list[str]]:
    """The workers' ledgers as one, and the cases two tests on different workers checked."""
    merged = _Ledger()
    conflicts: list[str] = []
    collected = {tuple(x.collected) for x in ledgers if x.collected is not None}
    merged.collected = list(collected.pop()) if len(collected) == 1 else None
    for x in ledgers:
        for root, cases in x.seen.items():
            into = merged.seen.setdefault(root, {})
            for case, nodeid in cases.items():
                other = into.setdefault(case, nodeid)
                if other != nodeid:
                    conflicts.append(f"{case} ({root}): checked by {other} and {nodeid}")
        for root, failed in x.failed.items():
            merged.failed.setdefault(root, []).extend(failed)
        for root, prefixes in x.unclean.items():
            merged.unclean.setdefault(root, set()).update(prefixes)
        merged.deselected += x.deselected
        merged.finished |= x.finished
    return merged, sorted(set(conflicts))


def _partial(config: pytest.Config, ledger: _Ledger, workers_missing: bool) -> str | None:
    """Why this run is not a full one (so unused goldens cannot be told), or None when it is."""
    if config.getoption("keyword", ""):
        return "-k"
    if config.getoption("markexpr", ""):
        return "-m"
    if config.getoption("lf", False):
        return "--lf"
    if any("::" in str(a) for a in config.args):
        return "node ids"
    if ledger.deselected:
        return "deselected tests"
    if workers_missing:
        return "a worker did not report"
    if ledger.collected is None or not set(ledger.collected) <= ledger.finished:
        return "not every test ran"
    return None


def _protected(case: str, prefixes: set[str]) -> bool:
    for p in prefixes:
        if case == p or case.startswith(p + "/"):
            return True
        if case.startswith(p + "-") and case[len(p) + 1 :].isdigit():
            return True
    return False


def _stale(case: str, seen: Mapping[str, str], modules: set[str], protected: set[str]) -> bool:
    """Whether `case` is no test's: unchecked, in a module that checked something, of no failed test."""
    return case not in seen and case.split("/", 1)[0] in modules and not _protected(case, protected)


def _remove(path: Path, root: Path) -> None:
    """Remove a file, then the directories it leaves empty below `root`."""
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _unused(summary: _Summary, ledger: _Ledger) -> None:
    """Unused goldens and stale candidates of the modules that checked something, removed in update mode."""
    for root, seen in sorted(ledger.seen.items()):
        snaps = toron.Snapshots(root, update=False)
        modules = {c.split("/", 1)[0] for c in seen}
        protected = ledger.unclean.get(root, set())
        try:
            unused = [c for c in snaps.unused(sorted(seen)) if _stale(c, seen, modules, protected)]
            pending = [c for c in snaps.pending_cases() if _stale(c, seen, modules, protected)]
        except toron.Error as e:
            summary.errors.append(f"cannot list the goldens under {root}: {e}")
            continue
        if unused:
            summary.unused[root] = unused
        if pending:
            summary.stale[root] = pending
        if summary.mode != "update":
            continue
        try:
            for case in unused:
                _remove(Path(snaps.golden_path(case)), Path(root))
            for case in sorted(set(unused) | set(pending)):
                _remove(Path(snaps.pending_path(case)), Path(root))
        except OSError as e:
            summary.errors.append(f"cannot remove an unused golden under {root}: {e}")
    summary.removed = summary.mode == "update"


class _RunHooks:
    """The hooks that gather what the run checked and ran (registered per config by ``pytest_configure``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.ledger = config.stash[_LEDGER_KEY]
        self.controller = _Controller()
        #: node id -> the reproduction commands of a failed test (from this process or an xdist worker).
        self.reproduce: dict[str, list[str]] = {}
        self.summary: _Summary | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        report = yield
        if report.failed or report.skipped:
            # Its goldens may simply not have been reached: never count them as unused.
            root = os.fspath(_root(self.config, Path(item.path)))
            self.ledger.unclean.setdefault(root, set()).add(_prefix(item))
        if report.failed and not item.stash.get(_REPORTED_KEY, False):
            lines = _reproduction(item)
            if lines:
                item.stash[_REPORTED_KEY] = True
                report.sections.append((_SECTION, "\n".join(lines)))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Here (not in makereport) so that the xdist controller sees its workers' reports too.
        if report.failed:
            for name, text in report.sections:
                if name == _SECTION:
                    self.reproduce.setdefault(report.nodeid, text.splitlines())

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.ledger.finished.add(nodeid)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.ledger.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.ledger.collected = [i.nodeid for i in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodeready(self, node: Any) -> None:
        self.controller.ready.add(str(node.gateway.id))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        wire = getattr(node, "workeroutput", {}).get(_WIRE_KEY)
        if wire is not None:
            self.controller.ledgers[str(node.gateway.id)] = _Ledger.from_wire(wire)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = self.config
        if hasattr(config, "workerinput"):
            # An xdist worker: the controller decides, once, from every worker's ledger.
            config.workeroutput[_WIRE_KEY] = self.ledger.to_wire()  # type: ignore[attr-defined]
            return
        summary = _Summary(mode=config.stash[_MODE_KEY])
        missing = False
        if _is_controller(config):
            ctl = self.controller
            ledger, summary.conflicts = _merge([ctl.ledgers[k] for k in sorted(ctl.ledgers)])
            missing = not ctl.ready <= set(ctl.ledgers)
        else:
            ledger = self.ledger
        summary.failed = {r: sorted(set(c)) for r, c in sorted(ledger.failed.items()) if c}
        if ledger.seen and _partial(config, ledger, missing) is None:
            _unused(summary, ledger)
        summary.reproduce = dict(sorted(self.reproduce.items()))
        self.summary = summary
        if (summary.conflicts or summary.errors) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.summary is not None:
            _print_summary(terminalreporter, self.summary)


def _print_summary(tr: Any, summary: _Summary) -> None:
    lines: list[str] = []
    failed = sum(len(c) for c in summary.failed.values())
    if failed:
        if summary.mode == "check":
            lines.append(f"{failed} snapshot(s) differ or have no golden (--snapshot-check wrote nothing)")
        else:
            for root in summary.failed:
                lines.append(
                    f"{len(summary.failed[root])} snapshot(s) differ under {root}; review with "
                    f"`toron snapshot review --root {root}` or rerun with --snapshot-update"
                )
    for root, cases in summary.unused.items():
        verb = "removed" if summary.removed else "not deleted; --snapshot-update on a full run removes them"
        lines.append(f"unused golden files under {root} ({verb}):")
        lines += [f"  {c}" for c in cases]
    for root, cases in summary.stale.items():
        verb = "removed" if summary.removed else "no test checks them"
        lines.append(f"stale pending candidates under {root} ({verb}):")
        lines += [f"  {c}.json.new" for c in cases]
    if summary.conflicts:
        lines.append("snapshot cases checked by two tests (they would share one golden):")
        lines += [f"  {c}" for c in summary.conflicts]
    lines += summary.errors
    if lines:
        tr.write_sep("-", "toron snapshots")
        for line in lines:
            tr.write_line(line)
    if summary.reproduce:
        tr.write_sep("-", "toron: reproduce the failed tests")
        for nodeid, commands in summary.reproduce.items():
            tr.write_line(f"{nodeid}:")
            for command in commands:
                tr.write_line(f"  {command}")
