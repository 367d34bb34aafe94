"""toron.Scenario: reading files, text and dicts, the round trip, and every bad-input class with its field
and line."""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

import toron
from conftest import SCENARIOS, load, scenario_path

BASE = """\
name = "t"
stop = { requests = 10 }

[[node]]
id = "server"
model = "echo"

[network]
latency = { dist = "constant", value = "5ms" }
loss = 0.0

[load]
mode = "closed"
clients = 1
target = "server"
"""

FAULT = """
[[fault]]
at = "1s"
kind = "crash"
node = "nobody"
"""

# (class, text, field, line): each bad-input class, where the core must point.
BAD = [
    ("unknown field", BASE.replace("loss = 0.0", "loss = 0.0\nlatncy = 1"), "network.latncy", 11),
    ("wrong type", BASE.replace("clients = 1", 'clients = "one"'), "load.clients", 14),
    ("negative duration", BASE.replace('value = "5ms"', 'value = "-5ms"'), "network.latency", 9),
    ("negative probability", BASE.replace("loss = 0.0", "loss = -0.1"), "network.loss", 10),
    ("unknown model", BASE.replace('model = "echo"', 'model = "echoo"'), "node[0].model", 6),
    ("unknown load target", BASE.replace('target = "server"', 'target = "sever"'), "load.target", 15),
    ("unknown fault node", BASE + FAULT, "fault[0].node", 20),
]


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.toml")))
def test_shipped_scenarios_load(name: str) -> None:
    scenario = load(name)
    assert scenario.name == name
    assert len(scenario.id) == 64
    assert scenario.file == str(scenario_path(name))
    assert repr(scenario).startswith(f"Scenario(name='{name}', id='{scenario.id[:16]}")


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.toml")))
def test_from_dict_to_dict_round_trip(name: str) -> None:
    scenario = load(name)
    spec = scenario.to_dict()
    again = toron.Scenario.from_dict(spec)
    assert again.to_dict() == spec
    assert again.id == scenario.id
    assert again == scenario
    assert hash(again) == hash(scenario)
    assert toron.simulate(again, seed=3).digest == toron.simulate(scenario, seed=3).digest


def test_json_and_toml_are_the_same_scenario(tmp_path: Path) -> None:
    scenario = load("kv")
    text = json.dumps(scenario.to_dict(), indent=2)
    from_text = toron.Scenario.from_str(text, format="json")
    path = tmp_path / "kv.json"
    path.write_text(text)
    from_file = toron.Scenario.from_file(path)
    assert from_text.id == from_file.id == scenario.id
    assert toron.Scenario.from_str(scenario_path("kv").read_text()).id == scenario.id


def test_pathlike_and_str_paths() -> None:
    assert toron.Scenario.from_file(str(scenario_path("echo"))) == toron.Scenario.from_file(
        scenario_path("echo")
    )


def test_scenario_pickles() -> None:
    scenario = load("kv_buggy")
    assert pickle.loads(pickle.dumps(scenario)) == scenario


def test_scenario_equality_is_by_structure() -> None:
    assert load("kv") != load("kv_buggy")
    assert load("kv") != "kv"


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_text_names_field_and_line(case: tuple[str, str, str, int]) -> None:
    _, text, field, line = case
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_str(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.kind == "scenario"
    assert err.field == field
    assert err.line == line
    assert err.path == "/" + field.replace(".", "/").replace("[", "/").replace("]", "")
    assert f"line {line}" in str(err) and f"field {field}" in str(err)


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_file_names_file_field_and_line(case: tuple[str, str, str, int], tmp_path: Path) -> None:
    _, text, field, line = case
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_file(path)
    err = info.value
    assert (err.file, err.field, err.line) == (str(path), field, line)
    assert str(err).startswith(f"{path}:{line}:")


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_dict_names_field_and_path(case: tuple[str, str, str, int]) -> None:
    _, text, field, _ = case
    spec = _toml_dict(text)
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_dict(spec)
    err = info.value
    assert err.field == field
    assert err.line is None


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_json_text_names_field_and_line(case: tuple[str, str, str, int]) -> None:
    _, text, field, _ = case
    json_text = json.dumps(_toml_dict(text), indent=2)
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_str(json_text, format="json")
    err = info.value
    assert err.field == field
    assert err.line is not None
    key = field.rsplit(".", 1)[-1].split("[")[0]
    assert f'"{key}"' in json_text.splitlines()[err.line - 1]


def test_nan_in_toml_is_a_scenario_error() -> None:
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_str(BASE.replace("loss = 0.0", "loss = nan"))
    assert info.value.path == "/network/loss"
    assert info.value.line == 10


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_str(BASE.replace("loss = 0.0", "loss = = 0.0"))
    assert (info.value.line, info.value.column) == (10, 8)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(OSError) as info:
        toron.Scenario.from_file(missing)
    err = info.value
    assert isinstance(err, toron.IoError) and isinstance(err, toron.Error)
    assert err.kind == "io"
    assert err.file == str(missing)
    assert err.filename == str(missing)


def test_unknown_format_is_invalid_argument() -> None:
    with pytest.raises(toron.InvalidArgumentError) as info:
        toron.Scenario.from_str(BASE, format="yaml")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.kind == "invalid_argument"


def test_from_dict_of_a_non_dict() -> None:
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_dict([1, 2])  # type: ignore[arg-type]
    assert str(info.value) == "a scenario is a dict, not list"


def test_scenario_has_no_public_constructor() -> None:
    with pytest.raises(TypeError):
        toron.Scenario()


def _toml_dict(text: str) -> dict[str, object]:
    """The TOML text as a dict (read by Python's own TOML parser, not the core's)."""
    return tomllib.loads(text)
