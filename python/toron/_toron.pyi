"""Type stubs of the native module ``toron._toron`` (checked by ``python -m mypy.stubtest toron._toron``)."""

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, NoReturn, SupportsIndex, TypeVar

from _typeshed import SupportsWrite
from typing_extensions import TypeAlias, final

__all__ = [
    "Archive",
    "ArchiveError",
    "CancelledError",
    "CanonicalError",
    "CheckResult",
    "Context",
    "Dataset",
    "DatasetError",
    "Diff",
    "Error",
    "ExpectationError",
    "Finding",
    "InvalidArgumentError",
    "IoError",
    "JsonError",
    "Manifest",
    "ManifestError",
    "Message",
    "NodeError",
    "Outcome",
    "PatchError",
    "Pending",
    "PiiError",
    "RefreshResult",
    "ReplayResult",
    "Run",
    "RunError",
    "RunEvents",
    "RunResult",
    "RunWriter",
    "Scenario",
    "ScenarioError",
    "Scrubbed",
    "Shrunk",
    "SimulationError",
    "SnapshotError",
    "Snapshots",
    "TextDiff",
    "Warroom",
    "WarroomError",
    "__version__",
    "_error_class_for_kind",
    "_error_kinds",
    "_expect_sometimes",
    "_quarantine_list",
    "_quarantine_purge",
    "_quarantine_put",
    "_quarantine_release",
    "_raise_error",
    "_scrub_file",
    "_serve",
    "_verdict_text",
    "apply_patch",
    "canonical",
    "check_linearizable",
    "diff",
    "digest",
    "first_divergence",
    "marks",
    "parse_json",
    "pretty",
    "read_json",
    "refresh_snapshots",
    "replay",
    "report",
    "run",
    "runs",
    "scan",
    "scrub",
    "shrink",
    "simulate",
    "start_run",
    "sweep",
    "text_diff",
]

__version__: str

_PathLike: TypeAlias = str | os.PathLike[str]

#: A JSON-like value: None, bool, int, float, str, lists (or tuples) and str-keyed mappings of them.
_Json: TypeAlias = Any
#: A tolerance: a number (absolute) or {"abs": x, "rel": y, "ulps": n} with any of the members.
_T = TypeVar("_T")
_Tolerance: TypeAlias = float | Mapping[str, float]
_Format: TypeAlias = Literal["text", "color", "html", "json"]

class Error(Exception):
    """Base of every error Toron raises; the context attributes are None when unknown."""

    kind: str | None
    message: str | None
    file: str | None
    line: int | None
    column: int | None
    field: str | None
    path: str | None
    op_index: int | None

class ScenarioError(Error, ValueError): ...
class IoError(Error, OSError): ...
class SimulationError(Error): ...
class CancelledError(Error): ...
class InvalidArgumentError(Error, ValueError): ...
class JsonError(Error, ValueError): ...
class CanonicalError(Error, ValueError): ...
class PatchError(Error, ValueError): ...
class SnapshotError(Error): ...
class ArchiveError(Error): ...
class ManifestError(Error, ValueError): ...
class RunError(Error): ...
class PiiError(Error, ValueError): ...
class DatasetError(Error, ValueError): ...
class WarroomError(Error): ...
class ExpectationError(Error): ...

class NodeError(Error):
    node: str | None
    callback: str | None
    time_ns: int | None
    traceback: str | None

@final
class Message:
    """A message delivered to a node: `body` is a JSON-like value (client requests are dicts)."""

    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def msg_id(self) -> int: ...
    @property
    def in_reply_to(self) -> int: ...
    @property
    def body(self) -> Any: ...

@final
class Context:
    """What a node may do during one callback (valid only during it)."""

    @property
    def node(self) -> str: ...
    @property
    def now(self) -> int: ...
    @property
    def incarnation(self) -> int: ...
    @property
    def nodes(self) -> list[str]: ...
    @property
    def output(self) -> dict[str, Any]: ...
    def send(self, dst: str, msg: Any) -> None: ...
    def reply(self, msg: Message, body: Any) -> None: ...
    def set_timer(self, name: str, after: str | int) -> None: ...
    def cancel_timer(self, name: str) -> None: ...
    def random(self) -> float: ...
    def randint(self, a: int, b: int) -> int: ...
    def choice(self, seq: Sequence[_T]) -> _T: ...
    def expovariate(self, rate: float) -> float: ...
    def mark(self, name: str) -> None: ...
    def violation(self, text: str, invariant: str = "node") -> None: ...
    def log(self, text: str) -> None: ...

_DatasetFormat: TypeAlias = Literal["jsonl", "csv", "json"]

@final
class Dataset:
    """A validated synthetic data-set schema: tables of seeded fake records."""

    @staticmethod
    def from_file(path: _PathLike) -> Dataset:
        """Read a schema file (`.json` is JSON, anything else TOML); a bad schema raises DatasetError."""
    @staticmethod
    def from_str(text: str, format: Literal["toml", "json"] = "toml") -> Dataset: ...
    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Dataset: ...
    @property
    def tables(self) -> list[str]: ...
    @property
    def file(self) -> str | None: ...
    def info(self) -> list[dict[str, Any]]: ...
    def rows(self, table: str, seed: int = 0) -> list[dict[str, Any]]: ...
    def columns(self, table: str, seed: int = 0) -> dict[str, list[Any]]: ...
    def write(
        self, out_dir: _PathLike, seed: int = 0, format: _DatasetFormat = "jsonl"
    ) -> dict[str, Any]: ...
    def digest(self, seed: int = 0, format: _DatasetFormat = "jsonl") -> str: ...
    def summary(self, seed: int = 0, format: _DatasetFormat = "jsonl") -> dict[str, Any]: ...
    def dump(self, table: str, seed: int = 0, format: _DatasetFormat = "jsonl") -> bytes: ...

@final
class Scenario:
    """A validated scenario, ready to simulate."""

    @staticmethod
    def from_file(
        path: _PathLike, nodes: Mapping[str, Any] | None = None, base_dir: _PathLike | None = None
    ) -> Scenario:
        """Read a scenario file (`.json` is JSON, anything else TOML); `python:` modules beside it (or in
        `base_dir`) import, and a `c:` node's relative `library` is relative to the same directory."""
    @staticmethod
    def from_str(
        text: str, format: Literal["toml", "json"] = "toml", nodes: Mapping[str, Any] | None = None
    ) -> Scenario: ...
    @staticmethod
    def from_dict(
        d: Mapping[str, Any], nodes: Mapping[str, Any] | None = None, base_dir: _PathLike | None = None
    ) -> Scenario:
        """Build from the file's structure; a value that is not JSON-like raises ScenarioError naming its path.
        `nodes` binds node ids to toron.Node prototypes (deep-copied at each start and restart); `base_dir` is
        the directory of `python:` modules and relative `c:` libraries."""
    @property
    def base_dir(self) -> str | None:
        """The directory of `python:` modules and relative `c:` libraries: the file's, or the one given."""
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def name(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def file(self) -> str | None: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class Outcome:
    """The result of one simulation."""

    @property
    def scenario(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def engine(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def stats(self) -> dict[str, Any]: ...
    @property
    def latency(self) -> dict[str, Any]: ...
    @property
    def violations(self) -> list[dict[str, Any]]: ...
    @property
    def coverage(self) -> dict[str, int]: ...
    @property
    def history(self) -> list[dict[str, Any]] | None: ...
    @property
    def linearizable(self) -> dict[str, Any] | None: ...
    def history_text(self, format: str = "json") -> str: ...
    @property
    def output(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def summary(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> Outcome: ...
    def __eq__(self, value: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]
    def __reduce__(self) -> tuple[Any, ...]: ...

def simulate(
    scenario: Scenario,
    seed: SupportsIndex | None = None,
    trace: _PathLike | None = None,
    *,
    history: bool = False,
) -> Outcome:
    """Simulate with `seed` (None: the scenario's, then SIM_SEED, then 0); `trace` writes JSON Lines;
    `history` records the load's operations in `Outcome.history`.

    Releases the GIL; Ctrl-C stops it with KeyboardInterrupt.
    """

def _expect_sometimes(scenario: Scenario, outcomes: list[Outcome]) -> list[tuple[str, list[int]]]: ...
def marks(scenario: Scenario, outcomes: list[Outcome]) -> list[tuple[str, list[int]]]: ...

@final
class Shrunk:
    """What `shrink` found: the minimal scenario (seed written in), the invariant and how it got there."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def seed(self) -> int: ...
    @property
    def invariant(self) -> str: ...
    @property
    def violation(self) -> dict[str, Any]: ...
    @property
    def runs(self) -> int: ...
    @property
    def steps(self) -> list[str]: ...
    @property
    def exhausted(self) -> bool: ...
    @property
    def original(self) -> dict[str, int]: ...
    @property
    def minimal(self) -> dict[str, int]: ...
    def to_toml(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def write(self, path: _PathLike) -> None: ...

def shrink(scenario: Scenario, seed: int | None = None, *, max_runs: int = 1000) -> Shrunk:
    """The smallest scenario that, with the same seed, still violates the invariant of the first violation.

    Releases the GIL; Ctrl-C stops it with KeyboardInterrupt. A seed with no violation raises
    InvalidArgumentError.
    """

def sweep(
    scenario: Scenario, seeds: Iterable[SupportsIndex], threads: SupportsIndex | None = None
) -> list[Outcome]:
    """Simulate every seed on all cores (or `threads`); outcomes in seed order, each equal to `simulate`'s.

    Releases the GIL; Ctrl-C stops it with KeyboardInterrupt.
    """

def _error_kinds() -> list[str]: ...
def _error_class_for_kind(name: str) -> type[Error]: ...
def _raise_error(
    kind: str,
    message: str,
    *,
    file: _PathLike | None = None,
    line: int | None = None,
    column: int | None = None,
    field: str | None = None,
    path: str | None = None,
    op_index: int | None = None,
) -> NoReturn: ...

# --- canonical JSON and identity -------------------------------------------------------------------------

def canonical(value: _Json) -> bytes:
    """The RFC 8785 canonical bytes of `value`; CanonicalError naming the path of what JSON cannot carry."""

def digest(value: _Json) -> str:
    """The identity of `value`: blake3 of its canonical bytes, 64 lowercase hex characters."""

def pretty(value: _Json) -> str:
    """Readable JSON in canonical key order and number form (2-space indent, final newline)."""

def parse_json(text: str | bytes) -> Any:
    """Parse JSON text strictly: JsonError with line and column, CanonicalError for an unsafe number."""

def read_json(path: _PathLike) -> Any:
    """Read and parse a JSON file as `parse_json` does; errors also name the file."""

# --- structural and text diff ----------------------------------------------------------------------------

@final
class Diff:
    """Operations that turn `old` into `new`; `bool(d)` is true when they differ."""

    @property
    def patch(self) -> list[dict[str, Any]]: ...
    @property
    def changes(self) -> list[dict[str, Any]]: ...
    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def coarse(self) -> bool: ...
    @property
    def steps(self) -> int: ...
    def summary(self) -> str: ...
    def render(self, format: _Format = "text") -> str: ...
    def __bool__(self) -> bool: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

def diff(
    old: _Json,
    new: _Json,
    *,
    keys: Mapping[str, str] | None = None,
    ignore: Iterable[str] | None = None,
    redact: Iterable[str] | None = None,
    tolerance: _Tolerance | None = None,
    tolerances: Mapping[str, _Tolerance] | None = None,
    budget: int | None = None,
) -> Diff:
    """Compare two JSON-like values (releases the GIL while comparing)."""

def apply_patch(value: _Json, patch: Iterable[Mapping[str, Any]]) -> Any:
    """Apply an RFC 6902 patch to a copy of `value`; PatchError with op_index and path."""

@final
class TextDiff:
    """A line diff of two texts; `bool(d)` is true when they differ."""

    def unified(self, context: int = 3, old_name: str = "a", new_name: str = "b") -> str: ...
    def unified_bytes(self, context: int = 3, old_name: str = "a", new_name: str = "b") -> bytes: ...
    def summary(self) -> str: ...
    def render(self, format: _Format = "text") -> str: ...
    @property
    def binary(self) -> bool: ...
    @property
    def counts(self) -> tuple[int, int]: ...
    def __bool__(self) -> bool: ...

def text_diff(
    old: str | bytes, new: str | bytes, *, algorithm: Literal["myers", "patience", "histogram"] = "myers"
) -> TextDiff:
    """Compare two texts line by line (releases the GIL); non-UTF-8 input falls back to lines of bytes."""

# --- golden files ----------------------------------------------------------------------------------------

@final
class CheckResult:
    """The outcome of `Snapshots.check`; `bool(r)` is `r.passed`."""

    @property
    def case(self) -> str: ...
    @property
    def status(self) -> Literal["passed", "failed", "created", "updated"]: ...
    @property
    def passed(self) -> bool: ...
    @property
    def golden_missing(self) -> bool: ...
    @property
    def golden_path(self) -> str: ...
    @property
    def pending_path(self) -> str | None: ...
    @property
    def diff(self) -> Diff | None: ...
    def summary(self) -> str: ...
    def __bool__(self) -> bool: ...

@final
class Pending:
    """A candidate waiting for review (`<case>.json.new`)."""

    @property
    def case(self) -> str: ...
    @property
    def golden_path(self) -> str: ...
    @property
    def new_path(self) -> str: ...
    @property
    def golden(self) -> Any: ...
    @property
    def candidate(self) -> Any: ...
    @property
    def diff(self) -> Diff: ...

@final
class Snapshots:
    """A directory of golden files; `update=None` reads TORON_SNAPSHOT_UPDATE once, now."""

    def __new__(cls, root: _PathLike = "snapshots", *, update: bool | None = None) -> Snapshots: ...
    @property
    def root(self) -> str: ...
    @property
    def update(self) -> bool: ...
    def check(
        self,
        case: str,
        value: _Json,
        *,
        update: bool | None = None,
        meta: Mapping[str, Any] | None = None,
        keys: Mapping[str, str] | None = None,
        ignore: Iterable[str] | None = None,
        redact: Iterable[str] | None = None,
        tolerance: _Tolerance | None = None,
        tolerances: Mapping[str, _Tolerance] | None = None,
        budget: int | None = None,
    ) -> CheckResult: ...
    def read(self, case: str) -> Any: ...
    def golden_path(self, case: str) -> str: ...
    def pending_path(self, case: str) -> str: ...
    def cases(self) -> list[str]: ...
    def pending_cases(self) -> list[str]: ...
    def pending(
        self,
        *,
        keys: Mapping[str, str] | None = None,
        ignore: Iterable[str] | None = None,
        redact: Iterable[str] | None = None,
        tolerance: _Tolerance | None = None,
        tolerances: Mapping[str, _Tolerance] | None = None,
        budget: int | None = None,
    ) -> list[Pending]: ...
    def accept(self, case: str | None = None) -> list[str]: ...
    def reject(self, case: str | None = None) -> list[str]: ...
    def unused(self, seen_cases: Iterable[str]) -> list[str]: ...

# --- run archive -----------------------------------------------------------------------------------------

@final
class RunWriter:
    """Writes one run: `add_case` for each case, then `finish()` (or leave a `with` block)."""

    @property
    def tag(self) -> str: ...
    def add_case(
        self,
        case: str,
        output: _Json,
        *,
        scenario: str | None = None,
        seed: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> str: ...
    def finish(self) -> dict[str, Any]: ...
    def __enter__(self) -> RunWriter: ...
    def __exit__(self, exc_type: object, _exc: object, _tb: object) -> bool: ...

@final
class Archive:
    """A content-addressed run archive (`.toron/` by default); reads verify the hash."""

    def __new__(cls, root: _PathLike = ".toron", *, compress: bool = True) -> Archive: ...
    @property
    def root(self) -> str: ...
    def put(self, value: _Json) -> str: ...
    def get(self, id: str) -> Any: ...
    def contains(self, id: str) -> bool: ...
    def __contains__(self, key: str, /) -> bool: ...
    def object_path(self, id: str) -> str: ...
    def new_run(self, meta: Mapping[str, Any] | None = None, *, engine: str = ...) -> RunWriter: ...
    def manifest(self, tag: str) -> dict[str, Any]: ...
    def output(self, tag: str, case: str) -> Any: ...
    def runs(self) -> list[dict[str, Any]]: ...
    def verify(self) -> dict[str, Any]: ...

# --- runs of a manifest ----------------------------------------------------------------------------------

_RunState: TypeAlias = Literal["scheduled", "running", "passed", "failed", "errored", "cancelled"]
#: An event: {"seq": 1, "run": "<id>", "type": "run.scheduled", "time": "<RFC 3339>", "data": {...}}.
_Event: TypeAlias = dict[str, Any]
_Names: TypeAlias = str | Iterable[str]

@final
class Manifest:
    """A parsed and checked test-operations manifest (`testops.toml`); ManifestError when it is not valid."""

    @staticmethod
    def from_file(path: _PathLike) -> Manifest:
        """Read a manifest file; relative paths in it are relative to its directory."""
    @staticmethod
    def from_str(text: str, root: _PathLike = ".") -> Manifest:
        """Parse manifest text; relative paths in it are relative to `root`."""
    @property
    def path(self) -> str | None: ...
    @property
    def root(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def archive(self) -> str: ...
    @property
    def reports(self) -> str: ...
    @property
    def snapshots(self) -> str: ...
    @property
    def profiles(self) -> dict[str, list[str]]: ...
    @property
    def suites(self) -> list[str]: ...
    @property
    def cases(self) -> list[str]: ...

@final
class RunResult:
    """What a run ended with (also what `runs()` lists)."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> _RunState: ...
    @property
    def error(self) -> str | None: ...
    @property
    def verdict(self) -> Literal["GO", "NO-GO", "none"]: ...
    @property
    def go(self) -> bool: ...
    @property
    def rules(self) -> list[dict[str, Any]]: ...
    @property
    def kpis(self) -> dict[str, Any]: ...
    @property
    def cases(self) -> list[dict[str, Any]]: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def suites(self) -> list[str]: ...
    @property
    def seed(self) -> int | None: ...
    @property
    def seed_source(self) -> Literal["option", "SIM_SEED", "scenario"]: ...
    @property
    def started(self) -> str: ...
    @property
    def duration(self) -> float: ...
    @property
    def archive(self) -> str: ...
    @property
    def report_dir(self) -> str | None: ...
    @property
    def unused_goldens(self) -> list[str]: ...
    @property
    def incident(self) -> dict[str, Any] | None:
        """The warroom incident the run opened or joined (`{"id", "created", "severity"}`), if any."""
    @property
    def datasets(self) -> list[dict[str, Any]]:
        """The `[[dataset]]`s generated for the run: name, schema, seed, format, digest, tables, dir."""
    @property
    def case_count(self) -> int:
        """`len(cases)` without converting the cases."""
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...

@final
class RunEvents:
    """A run's live events; waits for new ones (GIL released, Ctrl-C raises) and ends after run.finished."""

    def __iter__(self) -> RunEvents: ...
    def __next__(self) -> _Event: ...

@final
class Run:
    """A started run."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> _RunState: ...
    def events(self, after: SupportsIndex | None = None) -> RunEvents:
        """The events after seq `after` (None: from the first), live."""
    def follow(
        self,
        progress: SupportsWrite[str] | None = None,
        events: SupportsWrite[str] | None = None,
        *,
        after: SupportsIndex | None = None,
        bar: bool = False,
        width: int = 80,
    ) -> int:
        """Write the events after `after` to the end, rendered in Rust, in batches (<= 50 writes/s); the last seq.

        `progress`: a bar (`bar`, cut to `width`) or one line per finished case; `events`: each event's JSON
        line as in events.ndjson. GIL released while waiting; Ctrl-C raises, leaving `followed` set.
        """
    @property
    def followed(self) -> int:
        """The seq of the last event the latest `follow()` wrote: where to go on after an interrupt."""
    def cancel(self) -> None:
        """Ask the run to stop; it ends cancelled with its archive and reports written."""
    def wait(self, timeout: float | None = None) -> RunResult:
        """Wait for the end (GIL released); TimeoutError after `timeout` seconds; Ctrl-C does not cancel."""

def start_run(
    manifest: Manifest | _PathLike,
    profile: str | None = None,
    *,
    seed: SupportsIndex | None = None,
    jobs: SupportsIndex | None = None,
    retries: SupportsIndex | None = None,
    suites: _Names | None = None,
    check: bool = False,
    archive: _PathLike | None = None,
    datasets: _Names | None = None,
) -> Run:
    """Start a run in the background and return at once."""

def run(
    manifest: Manifest | _PathLike,
    profile: str | None = None,
    *,
    seed: SupportsIndex | None = None,
    jobs: SupportsIndex | None = None,
    retries: SupportsIndex | None = None,
    suites: _Names | None = None,
    check: bool = False,
    archive: _PathLike | None = None,
    datasets: _Names | None = None,
) -> RunResult:
    """Run to the end (GIL released); Ctrl-C cancels the run, records it, then raises KeyboardInterrupt."""

@final
class ReplayResult:
    """An offline replay of an archived run."""

    @property
    def run(self) -> str: ...
    @property
    def identical(self) -> bool: ...
    @property
    def cases(self) -> list[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

def replay(run_id: str, offline: bool = True, archive: _PathLike = ".toron") -> ReplayResult:
    """Re-run an archived run's simulations from the archive and diff them; offline=False is refused."""

def runs(archive: _PathLike = ".toron") -> list[RunResult]:
    """Every run of the archive, newest first (a run whose process died: errored, "interrupted")."""

def report(
    archive: _PathLike = ".toron", reports: _PathLike = "reports", run_id: str | None = None
) -> list[str]:
    """Render reports from the archive alone (run_id, or every run); returns the directories written."""

@final
class RefreshResult:
    """What `refresh_snapshots` did to each golden case."""

    @property
    def entries(self) -> list[dict[str, Any]]: ...
    def count(self, status: Literal["created", "changed", "unchanged", "skipped"]) -> int: ...
    def summary(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...

def refresh_snapshots(
    manifest: Manifest | _PathLike,
    profile: str | None = None,
    *,
    suites: _Names | None = None,
    seed: SupportsIndex | None = None,
) -> RefreshResult:
    """Regenerate missing and changed goldens; unchanged ones are not rewritten."""

def first_divergence(a: _PathLike, b: _PathLike) -> dict[str, Any] | None:
    """The first divergent event of two JSON Lines traces (text, or a path), or None when identical."""

# --- warroom ---------------------------------------------------------------------------------------------

_Status: TypeAlias = Literal["open", "mitigated", "resolved", "reopened"]
_Severity: TypeAlias = Literal["sev1", "sev2", "sev3", "sev4"]

@final
class Warroom:
    """Incidents, rollbacks and postmortems in a directory (`warroom.db`, `postmortems/`).

    Every method returns the core's JSON form (see the Rust `toron_core::warroom` docs); bad input raises
    `WarroomError`. `who` defaults to `$USER`, else "toron".
    """

    def __new__(
        cls,
        path: _PathLike = "warroom",
        *,
        archive: _PathLike = ".toron",
        snapshots: _PathLike = "snapshots",
        reports: _PathLike = "reports",
    ) -> Warroom: ...
    @property
    def path(self) -> str: ...
    @property
    def archive(self) -> str: ...
    @property
    def snapshots(self) -> str: ...
    @property
    def reports(self) -> str: ...
    def open_incident(
        self,
        run_id: str | None = None,
        dedup_key: str | None = None,
        severity: _Severity | str | None = None,
        *,
        title: str | None = None,
        owner: str | None = None,
        labels: str | Iterable[str] | None = None,
        who: str | None = None,
    ) -> dict[str, Any]: ...
    def incidents(self, status: _Status | str | None = None) -> list[dict[str, Any]]: ...
    def incident(self, id: str) -> dict[str, Any]: ...
    def note(self, id: str, text: str, *, who: str | None = None) -> dict[str, Any]: ...
    def mitigate(self, id: str, *, who: str | None = None, note: str | None = None) -> dict[str, Any]: ...
    def resolve(self, id: str, *, who: str | None = None, note: str | None = None) -> dict[str, Any]: ...
    def reopen(self, id: str, *, who: str | None = None, note: str | None = None) -> dict[str, Any]: ...
    def set_status(
        self, id: str, status: _Status | str, *, who: str | None = None, note: str | None = None
    ) -> dict[str, Any]: ...
    def rollback(
        self,
        cases: str | Iterable[str] | None,
        to: str,
        incident: str | None = None,
        dry_run: bool = False,
        *,
        all_failed: str | None = None,
        who: str | None = None,
        from_case: str | None = None,
    ) -> list[dict[str, Any]]: ...
    def rollbacks(self) -> list[dict[str, Any]]: ...
    def postmortem(self, id: str) -> str: ...

# --- PII scrubber ----------------------------------------------------------------------------------------

@final
class Finding:
    """One finding (never the value): kind, location ("12:5" or a JSON pointer), placeholder."""

    @property
    def kind(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def placeholder(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def column(self) -> int | None: ...
    @property
    def pointer(self) -> str | None: ...
    def to_dict(self) -> dict[str, str]: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Scrubbed:
    """The result of `scrub`: `text` (str input) or `value` (JSON-like input), and `findings`."""

    @property
    def text(self) -> str | None: ...
    @property
    def value(self) -> _Json: ...
    @property
    def findings(self) -> list[Finding]: ...
    def __bool__(self) -> bool: ...

_Names_or_csv: TypeAlias = Iterable[str] | str

def scrub(
    text_or_value: _Json,
    kinds: _Names_or_csv | None = None,
    allow: _Names_or_csv | None = None,
    *,
    key: str | bytes | None = None,
    strict: bool = False,
) -> Scrubbed:
    """Replace PII and secrets by stable placeholders; strict=True raises PiiError when anything is found."""

def scan(
    text_or_value: _Json,
    kinds: _Names_or_csv | None = None,
    allow: _Names_or_csv | None = None,
    *,
    key: str | bytes | None = None,
    strict: bool = False,
) -> list[Finding]:
    """The findings `scrub` would report."""

def _scrub_file(
    path_in: str,
    path_out: str | None = None,
    *,
    kinds: _Names_or_csv | None = None,
    allow: _Names_or_csv | None = None,
    key: str | bytes | None = None,
    key_env: str | None = None,
    archive: _PathLike | None = None,
    log: _PathLike | None = None,
    strict: bool = False,
    json: bool = False,
    limit: int | None = None,
) -> tuple[list[Finding], int, dict[str, int]]: ...
def _quarantine_put(
    root: _PathLike, run_id: str, case: str, artifact: str, data: bytes, findings: list[Finding]
) -> dict[str, Any]: ...
def _quarantine_list(root: _PathLike) -> list[dict[str, Any]]: ...
def _quarantine_release(root: _PathLike, id: str, to: _PathLike) -> str: ...
def _quarantine_purge(root: _PathLike, id: str) -> None: ...
def _serve(argv: Sequence[str]) -> int:
    """`toron serve`: run toron-server's command line (argv[0] is the program name); Ctrl-C stops it."""

_Model: TypeAlias = Literal["register", "cas-register", "kv", "set", "queue"]

def check_linearizable(
    history: Sequence[Mapping[str, Any]] | str | bytes | os.PathLike[str],
    model: _Model = "kv",
    budget: int | None = None,
) -> dict[str, Any]:
    """Check a history (op dicts, JSON or EDN text, or a file) for linearizability; the verdict as a dict."""

def _verdict_text(verdict: Mapping[str, Any]) -> str: ...
