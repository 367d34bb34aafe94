"""Python → JSON conversion of dicts given to Scenario.from_dict: every unconvertible value is a
ScenarioError (a ValueError) naming its JSON path, never a panic; JSON → Python keeps types."""

from __future__ import annotations

import math
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import pytest

import toron
from conftest import load


def spec() -> dict[str, Any]:
    d: dict[str, Any] = load("echo").to_dict()
    return d


def bad(d: dict[str, Any], path: str, field: str, words: str) -> None:
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_dict(d)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.kind == "scenario"
    assert err.path == path
    assert err.field == field
    assert words in str(err)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_float(value: float) -> None:
    d = spec()
    d["network"]["loss"] = value
    bad(d, "/network/loss", "network.loss", "not a finite number")


def test_non_string_key() -> None:
    d = spec()
    d["network"][1] = "x"
    bad(d, "/network", "network", "key 1 is not a string")


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**40])
def test_integer_out_of_range(value: int) -> None:
    d = spec()
    d["seed"] = value
    bad(d, "/seed", "seed", "out of range")


def test_largest_integers_convert() -> None:
    d = spec()
    d["seed"] = 2**64 - 1
    assert toron.Scenario.from_dict(d).seed == 2**64 - 1


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), 1j])
def test_unsupported_type(value: object) -> None:
    d = spec()
    d["node"][0]["params"] = {"service": value}
    bad(d, "/node/0/params/service", "node[0].params.service", "unsupported type")


def test_path_escapes_slash_and_tilde() -> None:
    d = spec()
    d["node"][0]["params"] = {"a/b~c": math.nan}
    bad(d, "/node/0/params/a~1b~0c", "node[0].params.a/b~c", "finite")


def test_self_containing_list_is_refused() -> None:
    d = spec()
    loop: list[Any] = []
    loop.append(loop)
    d["node"][0]["params"] = {"x": loop}
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_dict(d)
    assert "nested more than" in str(info.value)


def test_tuples_and_mappings_are_accepted() -> None:
    d = spec()
    d["node"] = tuple(d["node"])
    d["network"] = MappingProxyType(d["network"])
    d["stop"] = OrderedDict(d["stop"])
    assert toron.Scenario.from_dict(d).id == load("echo").id


def test_bool_is_not_an_int() -> None:
    d = spec()
    d["load"]["clients"] = True
    with pytest.raises(toron.ScenarioError) as info:
        toron.Scenario.from_dict(d)
    assert info.value.field == "load.clients"


def test_output_types_round_trip() -> None:
    outcome = toron.simulate(load("mm3"), seed=1)
    server = outcome.output["server"]
    assert type(server["customers"]) is int
    assert type(server["mean_sojourn"]) is float
    stats = outcome.stats
    assert type(stats["events"]) is int and type(stats["throughput"]) is float
    assert type(stats["stopped_by"]) is str
    assert set(outcome.latency) == {"count", "min", "mean", "p50", "p90", "p99", "p999", "max"}
    assert outcome.to_dict()["output"] == outcome.output


class Index:
    """An integer-like object that is not an int (like a numpy integer)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_integer_like_objects_convert() -> None:
    d = spec()
    d["load"]["clients"] = Index(3)
    assert toron.Scenario.from_dict(d).to_dict()["load"]["clients"] == 3
    d["load"]["clients"] = Index(2**65)
    bad(d, "/load/clients", "load.clients", "out of range")


def test_integer_like_seeds() -> None:
    scenario = load("echo")
    assert toron.simulate(scenario, seed=Index(5)).seed == 5
    assert [o.seed for o in toron.sweep(scenario, [Index(1), 2])] == [1, 2]
