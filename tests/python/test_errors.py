"""The exception hierarchy: every core ErrorKind maps to a class under toron.Error, with its context."""

from __future__ import annotations

import pytest

import toron
from toron import _toron

# The one mapping, written out: a new core kind fails here until it is given a class and a line.
EXPECTED: dict[str, tuple[type[toron.Error], tuple[type[BaseException], ...]]] = {
    "scenario": (toron.ScenarioError, (ValueError,)),
    "io": (toron.IoError, (OSError,)),
    "sim": (toron.SimulationError, ()),
    "cancelled": (toron.CancelledError, ()),
    "invalid_argument": (toron.InvalidArgumentError, (ValueError,)),
    "json": (toron.JsonError, (ValueError,)),
    "canonical": (toron.CanonicalError, (ValueError,)),
    "patch": (toron.PatchError, (ValueError,)),
    "snapshot": (toron.SnapshotError, ()),
    "archive": (toron.ArchiveError, ()),
    "manifest": (toron.ManifestError, (ValueError,)),
    "run": (toron.RunError, ()),
    "pii": (toron.PiiError, (ValueError,)),
    "dataset": (toron.DatasetError, (ValueError,)),
    "warroom": (toron.WarroomError, ()),
    "expectation": (toron.ExpectationError, ()),
    "node": (toron.NodeError, ()),
}


def test_every_core_kind_has_a_class() -> None:
    kinds = _toron._error_kinds()
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == set(EXPECTED), "a core ErrorKind was added or removed: map it in toron-py errors.rs"
    for kind in kinds:
        cls = _toron._error_class_for_kind(kind)
        want, also = EXPECTED[kind]
        assert cls is want, kind
        assert issubclass(cls, toron.Error) and issubclass(cls, Exception)
        for base in also:
            assert issubclass(cls, base), (kind, base)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_raised_error_carries_context(kind: str) -> None:
    with pytest.raises(toron.Error) as info:
        _toron._raise_error(
            kind,
            "what went wrong",
            file="f.toml",
            line=3,
            column=8,
            field="fault[0].node",
            path="/fault/0/node",
        )
    err = info.value
    assert type(err) is EXPECTED[kind][0]
    assert err.kind == kind
    assert err.message == "what went wrong"
    assert (err.file, err.line, err.column, err.field, err.path) == (
        "f.toml",
        3,
        8,
        "fault[0].node",
        "/fault/0/node",
    )
    assert str(err) == "f.toml:3:8: field fault[0].node: what went wrong"


def test_patch_error_has_op_index_and_path() -> None:
    with pytest.raises(toron.PatchError) as info:
        _toron._raise_error("patch", "path not found", op_index=2, path="/a/b")
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.op_index, err.path, err.field, err.line) == (2, "/a/b", None, None)
    assert str(err) == "operation 2: at /a/b: path not found"


def test_canonical_error_has_path() -> None:
    with pytest.raises(toron.CanonicalError) as info:
        _toron._raise_error("canonical", "NaN", path="/x")
    assert info.value.path == "/x"


def test_unknown_kind_name() -> None:
    with pytest.raises(ValueError):
        _toron._error_class_for_kind("nope")


def test_classes_live_in_toron_and_default_to_none() -> None:
    err = toron.Error("plain")
    assert (err.kind, err.path, err.line, err.field, err.file, err.op_index) == (None,) * 6
    classes: list[type[toron.Error]] = [toron.Error, *(c for c, _ in EXPECTED.values())]
    for cls in classes:
        assert cls.__module__ == "toron"
        assert getattr(toron, cls.__name__) is cls
        assert cls.__doc__


def test_errors_pickle_as_their_class() -> None:
    import pickle

    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_str("name = 1")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is toron.ScenarioError
    assert str(again) == str(info.value)


def test_bad_arguments() -> None:
    scenario = toron.Scenario.from_str(
        'name = "x"\nstop = { time = "1s" }\n[[node]]\nid = "a"\nmodel = "echo"\n'
    )
    with pytest.raises(toron.InvalidArgumentError):
        toron.simulate(scenario, seed=-1)
    with pytest.raises(toron.InvalidArgumentError):
        toron.simulate(scenario, seed=2**64)
    with pytest.raises(TypeError):
        toron.simulate(scenario, seed="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        toron.simulate(scenario, seed=True)
    with pytest.raises(TypeError):
        toron.simulate({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(toron.InvalidArgumentError):
        toron.sweep(scenario, [1], threads=0)
    with pytest.raises(toron.InvalidArgumentError):
        toron.sweep(scenario, [1, -2])
    with pytest.raises(TypeError):
        toron.sweep(scenario, 5)  # type: ignore[arg-type]


def test_trace_to_an_unwritable_path_is_an_os_error(tmp_path: object) -> None:
    scenario = toron.Scenario.from_str(
        'name = "x"\nstop = { time = "1s" }\n[[node]]\nid = "a"\nmodel = "echo"\n'
    )
    with pytest.raises(toron.IoError):
        toron.simulate(scenario, trace="/nonexistent-dir/trace.jsonl")
