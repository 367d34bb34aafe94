"""Nodes written in Python (issue 13): the toron.Node interface, python: models, messages, timers, durable
state across crashes, determinism across runs and threads, and the errors of bad nodes."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

import toron

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "nodes_fixtures"
ECHO = ROOT / "examples" / "scenarios" / "echo.toml"


class Echo(toron.Node):
    def __init__(self) -> None:
        self.answered = 0

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        if msg.body == {"type": "echo"}:
            self.answered += 1
            ctx.output["answered"] = self.answered
            ctx.reply(msg, {"type": "ok"})
        else:
            ctx.reply(msg, {"type": "error"})


def small(model: str = "echo", requests: int = 200, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": "small",
        "seed": 1,
        "stop": {"requests": requests},
        "node": [{"id": "server", "model": model}],
        "network": {"latency": {"dist": "constant", "value": "5ms"}},
        "load": {"mode": "closed", "clients": 4, "target": "server"},
    }
    d.update(extra)
    return d


def test_the_vector_python_echo_matches_the_builtin_echo() -> None:
    cases = json.loads((ROOT / "tests" / "vectors" / "nodes.json").read_text())["cases"]
    assert cases
    for case in cases:
        builtin = toron.simulate(toron.Scenario.from_file(ROOT / case["builtin"]), case["seed"])
        python = toron.simulate(toron.Scenario.from_file(ROOT / case["python"]), case["seed"])
        assert builtin.digest == case["digest"]
        assert python.digest == case["digest"]
        assert python.output == builtin.output
        assert python.stats == builtin.stats
        assert python.latency == builtin.latency


def test_a_node_bound_in_code_is_a_prototype_copied_at_each_start() -> None:
    proto = Echo()
    s = toron.Scenario.from_file(ECHO, nodes={"server": proto})
    a = toron.simulate(s)
    assert a.digest == toron.simulate(toron.Scenario.from_file(ECHO)).digest
    assert a.output == {"server": {"answered": 10_000}}
    assert proto.answered == 0, "the prototype never runs"
    # Same digest on every run and every thread count (the GIL is taken per callback, never held across).
    outs = toron.sweep(s, [1, 2, 3, 4], threads=4)
    assert [o.digest for o in outs] == [o.digest for o in toron.sweep(s, [1, 2, 3, 4], threads=1)]
    assert outs[0].digest == a.digest
    # A scenario with bound nodes pickles with them.
    again = pickle.loads(pickle.dumps(s))
    assert toron.simulate(again).digest == a.digest


class Chatty(toron.Node):
    """Uses every context call: timers by name, randomness, marks, logs, violations, messages between nodes."""

    def __init__(self, peer: str = "", rounds: int = 3) -> None:
        self.peer = peer
        self.rounds = rounds
        self.seen: list[Any] = []

    def on_start(self, ctx: toron.Context) -> None:
        ctx.set_timer("never", "1s")
        ctx.cancel_timer("never")
        ctx.set_timer("ping", "10ms")
        ctx.output["draws"] = [ctx.random() < 1.0, 1 <= ctx.randint(1, 6) <= 6, ctx.choice(["a", "b"])]
        ctx.output["exp_positive"] = ctx.expovariate(2.0) > 0

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        assert name == "ping"
        ctx.mark("ping")
        if self.peer and self.rounds > 0:
            self.rounds -= 1
            ctx.send(self.peer, {"n": self.rounds, "at": ctx.now, "tags": ["x", None, 1.5]})
            ctx.set_timer("ping", 10_000_000)

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        if msg.body.get("type") == "echo":
            ctx.reply(msg, {"type": "ok"})
            return
        self.seen.append(msg.body)
        ctx.log(f"from {src}: {msg.body['n']}")
        ctx.output["seen"] = len(self.seen)
        ctx.output["last"] = {"src": msg.src, "dst": msg.dst, "reply": msg.in_reply_to, "id": msg.msg_id > 0}
        if msg.body["n"] == 0:
            ctx.violation("the last round arrived", invariant="rounds")


def two_nodes() -> toron.Scenario:
    d = small()
    d["node"].append({"id": "b", "model": "echo"})
    return toron.Scenario.from_dict(d, nodes={"server": Chatty(peer="b"), "b": Chatty()})


def test_context_calls_reach_the_trace_coverage_violations_and_output() -> None:
    s = two_nodes()
    out = toron.simulate(s)
    assert out.output["b"]["seen"] == 3
    assert out.output["b"]["last"] == {"src": "server", "dst": "b", "reply": 0, "id": True}
    assert out.output["server"]["draws"][:2] == [True, True]
    assert out.coverage["ping"] == 4 + 1  # server: 4 timers (3 rounds + the last), b: 1
    assert [(v["node"], v["invariant"], v["message"]) for v in out.violations] == [
        ("b", "rounds", "the last round arrived")
    ]
    assert out.digest == toron.simulate(two_nodes()).digest
    # Another seed draws other numbers from the node streams, but the run is as reproducible.
    assert toron.simulate(s, 7).digest == toron.simulate(s, 7).digest


def fixture(name: str) -> Any:
    """A module of nodes_fixtures/ (imported by name, as a python: model would be)."""
    sys.path.insert(0, str(FIXTURES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(FIXTURES))


def kv_chaos(lose_data: bool) -> toron.Scenario:
    kv = fixture("pynodes_kv")
    d: dict[str, Any] = {
        "name": "pykv",
        "seed": 5,
        "stop": {"time": "3s"},
        # The kv placeholder makes the load send get/put; the Python node replaces it.
        "node": [{"id": "kv", "model": "kv", "params": {"role": "primary", "peer": "kv"}}],
        "network": {"latency": {"dist": "exponential", "mean": "2ms"}},
        "load": {
            "mode": "closed",
            "clients": 3,
            "target": "kv",
            "think": {"dist": "exponential", "mean": "10ms"},
            "timeout": "100ms",
            "reads": 0.5,
        },
        "fault": [
            {"at": "1s", "kind": "crash", "node": "kv"},
            {"at": "1.2s", "kind": "restart", "node": "kv"},
            {"at": "2s", "kind": "restart", "node": "kv"},
        ],
    }
    return toron.Scenario.from_dict(d, nodes={"kv": kv.KvForgetful() if lose_data else kv.Kv()})


def test_a_python_kv_under_chaos_keeps_what_it_declares_durable() -> None:
    kept = toron.simulate(kv_chaos(lose_data=False), history=True)
    lost = toron.simulate(kv_chaos(lose_data=True), history=True)
    assert kept.coverage["kv.restarted"] == 2
    assert kept.coverage["fault.crash"] == 1
    assert kept.stats["requests_ok"] > 100
    # served is not durable: the last life counts only its own requests.
    assert 0 < kept.output["kv"]["served"] < kept.stats["requests_ok"]
    reads = [op for op in kept.history or [] if op.get("f") == "read" and op.get("type") == "ok"]
    assert reads, "the load read keys through the typed replies"
    assert kept.output["kv"]["keys"] > lost.output["kv"]["keys"], "lost data: fewer keys after the restarts"
    assert kept.digest != lost.digest
    # Deterministic: the same digest twice, and on every thread count.
    again = kv_chaos(lose_data=False)
    assert toron.simulate(again, history=True).digest == kept.digest
    seeds = [5, 6, 7]
    one = [o.digest for o in toron.sweep(again, seeds, threads=1)]
    assert one == [o.digest for o in toron.sweep(again, seeds, threads=3)]
    assert one[0] == toron.simulate(again).digest


def test_a_python_model_is_checked_at_load_with_file_and_line(tmp_path: Path) -> None:
    text = (FIXTURES / "echo_here.toml").read_text()
    path = tmp_path / "s.toml"
    path.write_text(text.replace("pynodes_echo:Echo", "nosuchpkg.mod:Echo"))
    with pytest.raises(toron.ScenarioError) as e:
        toron.Scenario.from_file(path)
    assert e.value.field == "node[0].model"
    assert e.value.line == 8
    assert e.value.file == str(path)
    assert "cannot import \"nosuchpkg.mod\": No module named 'nosuchpkg'" in str(e.value)

    (tmp_path / "pynodes_here.py").write_text("import toron\nclass Other(toron.Node):\n    pass\n")
    path.write_text(text.replace("pynodes_echo:Echo", "pynodes_here:Cart"))
    with pytest.raises(toron.ScenarioError, match='module "pynodes_here" has no class "Cart"'):
        toron.Scenario.from_file(path)
    path.write_text(text.replace("pynodes_echo:Echo", "pynodes_here"))
    with pytest.raises(toron.ScenarioError, match="expected python:pkg.module:Class"):
        toron.Scenario.from_file(path)


def test_params_are_keyword_arguments_of_the_constructor(tmp_path: Path) -> None:
    (tmp_path / "pynodes_params.py").write_text(
        "import toron\n"
        "class P(toron.Node):\n"
        "    def __init__(self, greeting: str, times: int = 1) -> None:\n"
        "        self.greeting, self.times = greeting, times\n"
        "    def on_start(self, ctx: toron.Context) -> None:\n"
        "        ctx.output['said'] = [self.greeting] * self.times\n"
        "    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:\n"
        "        ctx.reply(msg, {'type': 'ok'})\n"
    )
    text = (FIXTURES / "echo_here.toml").read_text().replace("pynodes_echo:Echo", "pynodes_params:P")
    text = text.replace("requests = 10_000", "requests = 10")
    path = tmp_path / "p.toml"
    params = 'model = "python:pynodes_params:P"\nparams = { greeting = "hi", times = 2 }'
    path.write_text(text.replace('model = "python:pynodes_params:P"', params))
    out = toron.simulate(toron.Scenario.from_file(path))
    assert out.output["server"] == {"said": ["hi", "hi"]}


def test_an_exception_in_a_callback_is_a_node_error_with_the_traceback() -> None:
    bad = fixture("pynodes_bad")
    s = toron.Scenario.from_dict(small(), nodes={"server": bad.RaisesInMessage()})
    with pytest.raises(toron.NodeError) as e:
        toron.simulate(s)
    err = e.value
    assert err.node == "server"
    assert err.callback == "on_message"
    assert err.time_ns == 5_000_000
    assert err.traceback is not None and "ValueError: boom at 5000000" in err.traceback
    assert "pynodes_bad.py" in err.traceback
    assert str(err).startswith('node "server": on_message at 5000000 ns: raised ValueError: boom at 5000000')
    # In a sweep too, never a panic nor a deadlock.
    with pytest.raises(toron.NodeError, match="on_message"):
        toron.sweep(s, [1, 2, 3], threads=3)

    with pytest.raises(toron.NodeError) as e:
        toron.simulate(toron.Scenario.from_dict(small(), nodes={"server": bad.SendsASet()}))
    assert e.value.callback == "on_start"
    assert 'ctx.send: the message to "server" is not JSON-like' in str(e.value)
    assert "/items" in str(e.value)


def test_an_exception_in_the_constructor_is_a_node_error(tmp_path: Path) -> None:
    text = (FIXTURES / "echo_here.toml").read_text()
    path = tmp_path / "c.toml"
    import shutil

    shutil.copy(FIXTURES / "pynodes_bad.py", tmp_path / "pynodes_bad.py")
    path.write_text(text.replace("pynodes_echo:Echo", "pynodes_bad:RaisesInInit"))
    with pytest.raises(toron.NodeError) as e:
        toron.simulate(toron.Scenario.from_file(path))
    assert e.value.callback == "__init__"
    assert e.value.time_ns == 0
    assert "RuntimeError: cannot build" in str(e.value)


def test_a_class_that_is_not_a_node_is_refused(tmp_path: Path) -> None:
    import shutil

    shutil.copy(FIXTURES / "pynodes_bad.py", tmp_path / "pynodes_bad.py")
    path = tmp_path / "n.toml"
    path.write_text(
        (FIXTURES / "echo_here.toml").read_text().replace("pynodes_echo:Echo", "pynodes_bad:NotANode")
    )
    with pytest.raises(
        toron.ScenarioError, match='class "NotANode" of module "pynodes_bad" is not a toron.Node subclass'
    ):
        toron.Scenario.from_file(path)
    with pytest.raises(toron.NodeError, match='nodes\\["server"\\] is a dict, not a toron.Node'):
        toron.Scenario.from_dict(small(), nodes={"server": {}})
    with pytest.raises(toron.ScenarioError, match='has no node "nope"'):
        toron.Scenario.from_dict(small(), nodes={"nope": Echo()})


class BadReply(toron.Node):
    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        ctx.reply(msg, {"type": "fine"})


class KeepsCtx(toron.Node):
    kept: ClassVar[list[toron.Context]] = []

    def on_start(self, ctx: toron.Context) -> None:
        self.kept.append(ctx)
        ctx.set_timer("t", 1)

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        self.kept[0].log("late")

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        ctx.reply(msg, {"type": "ok"})


def test_bad_uses_of_the_context_are_named() -> None:
    with pytest.raises(toron.NodeError, match="a reply to a load client must be"):
        toron.simulate(toron.Scenario.from_dict(small(), nodes={"server": BadReply()}))
    with pytest.raises(toron.NodeError, match='belongs to a callback of node "server" that has returned'):
        toron.simulate(toron.Scenario.from_dict(small(), nodes={"server": KeepsCtx()}))
