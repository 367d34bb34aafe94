"""hypothesis: random small valid scenarios (echo or queue, random latencies, loss, duplication, reordering,
faults, open or closed load) never raise anything but toron.Error and are deterministic."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toron


@st.composite
def durations(draw: st.DrawFn, low: int = 0, high: int = 50) -> str:
    return f"{draw(st.integers(low, high))}{draw(st.sampled_from(['us', 'ms']))}"


@st.composite
def dists(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["constant", "uniform", "exponential", "normal", "lognormal"]))
    if kind == "constant":
        return {"dist": kind, "value": draw(durations())}
    if kind == "uniform":
        a, b = sorted([draw(st.integers(0, 50)), draw(st.integers(0, 50))])
        return {"dist": kind, "low": f"{a}ms", "high": f"{b}ms"}
    if kind == "exponential":
        return {"dist": kind, "mean": draw(durations(1))}
    if kind == "normal":
        return {"dist": kind, "mean": draw(durations(1)), "stddev": draw(durations())}
    return {"dist": kind, "median": draw(durations(1)), "sigma": draw(st.floats(0.05, 2.0))}


probabilities = st.floats(0.0, 0.5, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    ids = [f"n{i}" for i in range(n)]
    nodes = []
    for node_id in ids:
        if draw(st.booleans()):
            params: dict[str, Any] = {}
            if draw(st.booleans()):
                params["service"] = draw(dists())
            nodes.append({"id": node_id, "model": "echo", "params": params})
        else:
            params = {"servers": draw(st.integers(1, 3)), "service": draw(dists())}
            nodes.append({"id": node_id, "model": "queue", "params": params})
    network: dict[str, Any] = {
        "latency": draw(dists()),
        "loss": draw(probabilities),
        "duplicate": draw(probabilities),
        "reorder": draw(probabilities),
    }
    if draw(st.booleans()):
        load: dict[str, Any] = {
            "mode": "closed",
            "clients": draw(st.integers(1, 4)),
            "target": draw(st.sampled_from(ids)),
        }
        if draw(st.booleans()):
            load["think"] = draw(dists())
    else:
        load = {
            "mode": "open",
            "target": draw(st.sampled_from(ids)),
            "arrivals": draw(st.sampled_from(["poisson", "constant"])),
            "rate": f"{draw(st.integers(1, 200))}/s",
        }
    load["timeout"] = draw(st.sampled_from(["50ms", "200ms", "1s"]))
    faults = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(["crash", "restart", "partition", "heal", "loss_burst", "slow", "clock_skew"])
        )
        fault: dict[str, Any] = {"at": f"{draw(st.integers(0, 2000))}ms", "kind": kind}
        if kind in ("crash", "restart", "slow", "clock_skew"):
            fault["node"] = draw(st.sampled_from(ids))
        if kind == "partition":
            fault["groups"] = [[draw(st.sampled_from(ids))], ["client"]]
        if kind in ("partition", "loss_burst", "slow", "clock_skew"):
            fault["duration"] = f"{draw(st.integers(1, 1000))}ms"
        if kind == "loss_burst":
            fault["loss"] = draw(probabilities)
        if kind == "slow":
            fault["factor"] = draw(st.floats(0.5, 5.0))
        if kind == "clock_skew":
            fault["skew"] = f"{draw(st.integers(-100, 100))}ms"
        faults.append(fault)
    spec: dict[str, Any] = {
        "name": "prop",
        "stop": {"requests": draw(st.integers(1, 150)), "time": "3s", "events": 50_000},
        "node": nodes,
        "network": network,
        "load": load,
    }
    if faults:
        spec["fault"] = faults
    return spec


def run(spec: dict[str, Any], seed: int) -> tuple[str, str] | toron.Error:
    try:
        scenario = toron.Scenario.from_dict(spec)
        outcome = toron.simulate(scenario, seed=seed)
        return outcome.digest, outcome.to_json()
    except toron.Error as err:  # the only exception allowed
        return err


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=scenarios(), seed=st.integers(0, 2**64 - 1))
def test_random_scenarios_only_raise_toron_errors_and_are_deterministic(
    spec: dict[str, Any], seed: int
) -> None:
    first = run(spec, seed)
    second = run(spec, seed)
    if isinstance(first, toron.Error):
        assert isinstance(second, toron.Error)
        assert type(first) is type(second) and str(first) == str(second)
    else:
        assert first == second


@settings(max_examples=30, deadline=None)
@given(spec=scenarios())
def test_valid_scenarios_round_trip(spec: dict[str, Any]) -> None:
    try:
        scenario = toron.Scenario.from_dict(spec)
    except toron.ScenarioError:
        return
    again = toron.Scenario.from_dict(scenario.to_dict())
    assert again == scenario and again.id == scenario.id


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=4)
    | st.sampled_from(["5ms", "-1s", "nan", "1e400s", "0.9/s", "server", "client", "*", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=3)
    ),
    max_leaves=6,
)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) in a dict/list structure, containers included."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += leaves(v, (*path, i))
    return out


@settings(max_examples=150, deadline=None)
@given(spec=scenarios(), data=st.data())
def test_mutated_scenarios_only_raise_toron_errors(spec: dict[str, Any], data: st.DataObject) -> None:
    paths = [p for p in leaves(spec) if p]
    path = data.draw(st.sampled_from(paths))
    target: Any = spec
    for step in path[:-1]:
        target = target[step]
    if data.draw(st.booleans()):
        target[path[-1]] = data.draw(junk)
    elif isinstance(target, dict):
        del target[path[-1]]
    else:
        target.pop(path[-1])
    try:
        toron.simulate(toron.Scenario.from_dict(spec), seed=1)
    except toron.Error as err:
        assert err.kind is not None
        assert str(err)
