"""Type stubs of the native module ``toron._toron`` (checked by ``python -m mypy.stubtest toron._toron``)."""

import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, NoReturn, SupportsIndex

from typing_extensions import TypeAlias, final

__all__ = [
    "ArchiveError",
    "CancelledError",
    "CanonicalError",
    "Error",
    "InvalidArgumentError",
    "IoError",
    "JsonError",
    "Outcome",
    "PatchError",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SnapshotError",
    "__version__",
    "_error_class_for_kind",
    "_error_kinds",
    "_raise_error",
    "simulate",
    "sweep",
]

__version__: str

_PathLike: TypeAlias = str | os.PathLike[str]

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

@final
class Scenario:
    """A validated scenario, ready to simulate."""

    @staticmethod
    def from_file(path: _PathLike) -> Scenario:
        """Read a scenario file (`.json` is JSON, anything else TOML)."""
    @staticmethod
    def from_str(text: str, format: Literal["toml", "json"] = "toml") -> Scenario: ...
    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Scenario:
        """Build from the file's structure; a value that is not JSON-like raises ScenarioError naming its path."""
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
    scenario: Scenario, seed: SupportsIndex | None = None, trace: _PathLike | None = None
) -> Outcome:
    """Simulate with `seed` (None: the scenario's, then SIM_SEED, then 0); `trace` writes JSON Lines.

    Releases the GIL; Ctrl-C stops it with KeyboardInterrupt.
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
