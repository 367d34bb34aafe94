"""Toron: a deterministic test-operations engine (the Python surface of toron-core).

>>> import toron
>>> scenario = toron.Scenario.from_file("examples/scenarios/mm1.toml")
>>> outcome = toron.simulate(scenario, seed=42)
>>> outcome.digest == toron.simulate(scenario, seed=42).digest
True

Errors are raised as subclasses of :class:`toron.Error`, each also subclassing the stdlib exception a user
would catch (``ScenarioError`` is a ``ValueError``, ``IoError`` an ``OSError``). ``simulate`` and ``sweep``
release the GIL and stop promptly on Ctrl-C (``KeyboardInterrupt``).

Snapshots and diffs:

>>> d = toron.diff({"items": [1, 2], "total": 3}, {"items": [0, 1, 2], "total": 3})
>>> d.summary()
'0 changed, 1 added, 0 removed'
>>> d.patch
[{'op': 'add', 'path': '/items/0', 'value': 0}]
>>> toron.apply_patch({"items": [1, 2], "total": 3}, d.patch)
{'items': [0, 1, 2], 'total': 3}
>>> len(toron.digest({"b": 1, "a": 2.0}))
64

``toron.Snapshots(root)`` keeps golden files (``snapshots/<case>.json``) and ``toron.Archive(root)`` the
content-addressed run archive (``.toron/``); the ``toron`` command line reviews pending goldens and diffs JSON
files, and the pytest plugin gives a ``snapshot`` fixture and ``--snapshot-update``.

Runs of a test-operations manifest (``testops.toml``): ``toron.run("testops.toml", "offline")`` runs the
profile's suites and returns a :class:`RunResult` (state, GO / NO-GO verdict with each rule, KPIs, cases,
report directory); ``toron.start_run`` returns a :class:`Run` at once, whose ``events()`` iterate live
(``{"seq", "run", "type", "time", "data"}``, resumable with ``after=seq``), whose ``follow(progress,
events)`` writes the progress and the events' JSON lines to files from Rust (what ``toron run`` uses; no
Python per event), ``cancel()`` and ``wait(timeout)``. Waits release the GIL; Ctrl-C in ``toron.run`` cancels the run and records it before
``KeyboardInterrupt``. ``toron.runs``, ``toron.report`` and ``toron.replay`` work from the archive alone;
``toron.refresh_snapshots`` regenerates goldens and ``toron.first_divergence`` compares two traces.

Synthetic data sets: ``toron.Dataset.from_file("examples/datasets/customers.toml")`` reads a schema;
``rows(table, seed)`` gives dicts, ``columns(table, seed)`` lists per field, ``write(out_dir, seed, format)``
writes ``<table>.<jsonl|csv|json>`` files and returns their digests, ``digest(seed, format)`` the data set's
digest alone — the same bytes and digests as from Rust and C.

PII and secrets: ``toron.scrub(text_or_value, kinds=None, allow=None, *, key=None, strict=False)`` replaces
every email, phone, card, SSN, IBAN, IP address, JWT, AWS key, private key and token by a stable placeholder
(``<EMAIL:1f3a9c2b>``: the same value, the same placeholder, under the same key) and returns a
:class:`Scrubbed` (``.text`` or ``.value``, ``.findings``); ``toron.scan`` returns the :class:`Finding` list
(``kind``, ``location``, ``placeholder``, ``line``/``column`` or ``pointer``; never the value).

>>> s = toron.scrub({"user": {"email": "bob@corp.io", "name": "Bob"}}, key="docs")
>>> s.value["user"]["name"], s.value["user"]["email"].startswith("<EMAIL:")
('Bob', True)
>>> [(f.kind, f.location) for f in s.findings]
[('email', '/user/email')]
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any, ClassVar, SupportsIndex

from toron import _toron
from toron._toron import (
    Archive,
    ArchiveError,
    CancelledError,
    CanonicalError,
    CheckResult,
    Context,
    Dataset,
    DatasetError,
    Diff,
    Error,
    ExpectationError,
    Finding,
    InvalidArgumentError,
    IoError,
    JsonError,
    Manifest,
    ManifestError,
    Message,
    NodeError,
    Outcome,
    PatchError,
    Pending,
    PiiError,
    RefreshResult,
    ReplayResult,
    Run,
    RunError,
    RunEvents,
    RunResult,
    RunWriter,
    Scenario,
    ScenarioError,
    Scrubbed,
    Shrunk,
    SimulationError,
    SnapshotError,
    Snapshots,
    TextDiff,
    Warroom,
    WarroomError,
    __version__,
    apply_patch,
    canonical,
    check_linearizable,
    diff,
    digest,
    first_divergence,
    parse_json,
    pretty,
    read_json,
    refresh_snapshots,
    replay,
    report,
    run,
    runs,
    scan,
    scrub,
    shrink,
    simulate,
    start_run,
    text_diff,
)


def _expose_c_api() -> None:
    """Make the native module's C API visible to the C node libraries that ``c:<symbol>`` models name.

    Such a library calls the ``toron_ctx_*`` functions by name and is not linked against anything: the
    dynamic linker finds them in the process's global scope. The native module links the C API and exports
    them, but Python opened it ``RTLD_LOCAL``; re-opening it ``RTLD_GLOBAL | RTLD_NOLOAD`` (the copy already
    loaded, never a second one) adds it to the global scope, before any node library is opened. Linking
    node libraries with ``-ltoron`` instead would load a second engine, whose ``toron_ctx_*`` would be handed
    contexts of this one.
    """
    noload = getattr(os, "RTLD_NOLOAD", None)
    path = getattr(_toron, "__file__", None)
    if noload is not None and path is not None:
        ctypes.CDLL(path, mode=noload | os.RTLD_GLOBAL)


_expose_c_api()

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
    "Node",
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


def sweep(
    scenario: Scenario,
    seeds: Iterable[SupportsIndex],
    threads: SupportsIndex | None = None,
    *,
    executor: Executor | None = None,
) -> list[Outcome]:
    """Simulate `scenario` once per seed; the outcomes come back in seed order and equal what
    :func:`simulate` gives for each seed alone.

    By default the sweep runs in this process on all cores (or `threads` threads), with the GIL released,
    and stops promptly on Ctrl-C. With `executor` (any :class:`concurrent.futures.Executor`: a process
    pool, or a Dask or Ray executor when one machine is not enough) each seed is one task; the scenario
    travels as its canonical structure (``Scenario.__reduce__``), outcomes as their JSON, and `threads` must
    then be None.

    When the scenario lists marks under ``[expect] sometimes`` and no seed reached one of them, raises
    :class:`ExpectationError` naming it; the outcomes are on the exception (``outcomes``), with each
    expected mark's seeds (``marks``).
    """
    if executor is None:
        outcomes = _toron.sweep(scenario, seeds, threads)
    else:
        if threads is not None:
            _toron._raise_error(
                "invalid_argument",
                "threads and executor are exclusive (the executor decides where seeds run)",
            )
        # Sized lists: Dask's executor takes only iterables with a length.
        listed = list(seeds)
        outcomes = list(executor.map(simulate, [scenario] * len(listed), listed))
    try:
        _toron._expect_sometimes(scenario, outcomes)
    except ExpectationError as e:
        e.outcomes = outcomes  # type: ignore[attr-defined]
        e.marks = dict(_toron.marks(scenario, outcomes))  # type: ignore[attr-defined]
        raise
    return outcomes


def marks(scenario: Scenario, outcomes: Iterable[Outcome]) -> dict[str, list[int]]:
    """Each mark of the scenario's ``[expect] sometimes``, in the order listed, with the seeds of `outcomes`
    that reached it (an empty list: none did)."""
    return dict(_toron.marks(scenario, list(outcomes)))


class Node:
    """Base of nodes written in Python: state machines the simulation drives on virtual time.

    Override the callbacks you need; each gets a :class:`Context` (valid during that call only) to act
    through: ``send``, ``reply``, ``set_timer``/``cancel_timer`` by name, ``now`` (int ns), ``random`` /
    ``randint`` / ``choice`` / ``expovariate`` from the node's own stream, ``output`` (a dict: this node's
    part of the outcome), ``mark``, ``violation`` and ``log``. Never use Python's ``random`` or wall time:
    the digest would stop being reproducible.

    Plug a node in by its model (``model = "python:pkg.module:Cart"``, ``params`` passed to the constructor
    as keyword arguments; the scenario's directory is importable) or in code
    (``Scenario.from_dict(d, nodes={"cart": Cart()})``: a prototype, deep-copied at each start and restart).

    A crash loses the object. What the class lists in ``durable`` survives (deep copies, as on disk) and is
    handed to ``on_restart(ctx, state)``, which by default sets those attributes and calls ``on_start``.
    An exception raised in the constructor or a callback stops the simulation with :class:`NodeError`.
    """

    #: Attribute names that survive a crash (copied out when the node crashes, set on the next instance).
    durable: ClassVar[Sequence[str]] = ()

    def on_start(self, ctx: Context) -> None:
        """The node starts (time 0, or after a restart when ``on_restart`` is not overridden)."""

    def on_message(self, ctx: Context, src: str, msg: Message) -> None:
        """A message arrived from node `src` (``"client"`` for load clients); the body is ``msg.body``."""

    def on_timer(self, ctx: Context, name: str) -> None:
        """The timer `name` set with ``ctx.set_timer`` fired."""

    def on_restart(self, ctx: Context, state: dict[str, Any]) -> None:
        """The node restarts after a crash on a fresh object; `state` holds its ``durable`` attributes."""
        for key, value in state.items():
            setattr(self, key, value)
        self.on_start(ctx)
