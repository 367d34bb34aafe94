"""A key-value store written in Python, run by the simulation as a ``python:kvnode:...`` node.

The load of ``kv.toml`` reads and writes keys (``[load] reads`` makes a Python node a key-value target): each
put gets ``{"type": "ok"}`` once the store has it, each get ``{"type": "value", "value": v}``, and the load checks
every read of a key against the last write it saw acknowledged. The fault plan crashes and restarts the node.

- :class:`Kv` keeps its data in ``durable`` attributes, written before each acknowledgement: a crash loses
  nothing it acknowledged, and the chaos case is clean.
- :class:`WriteBackKv` acknowledges a put at once and writes it to its durable store on the next flush: a
  crash between the two loses acknowledged writes, which the load's check finds (``acknowledged_write_lost``)
  — the chaos case that expects a violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import toron


class Kv(toron.Node):
    """A single-node store whose data survives crashes (``durable``); ``served`` is lost with each crash."""

    durable: ClassVar[Sequence[str]] = ("data",)

    def __init__(self, report: str = "100ms") -> None:
        self.report = report
        self.data: dict[int, int] = {}
        self.served = 0

    def on_start(self, ctx: toron.Context) -> None:
        ctx.set_timer("report", self.report)

    def on_restart(self, ctx: toron.Context, state: dict[str, Any]) -> None:
        ctx.mark("kv.restarted")
        ctx.log(f"restart {ctx.incarnation} with {len(state.get('data', {}))} keys")
        super().on_restart(ctx, state)

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        if name == "report":
            ctx.output["keys"] = len(self.data)
            ctx.set_timer("report", self.report)

    def read(self, key: int) -> int | None:
        return self.data.get(key)

    def write(self, ctx: toron.Context, key: int, value: int) -> None:
        self.data[key] = value

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        body = msg.body
        self.served += 1
        ctx.output["served"] = self.served
        kind = body.get("type") if isinstance(body, dict) else None
        if kind == "get":
            ctx.reply(msg, {"type": "value", "value": self.read(int(body["key"]))})
        elif kind == "put":
            self.write(ctx, int(body["key"]), int(body["value"]))
            ctx.reply(msg, {"type": "ok"})
        else:
            ctx.reply(msg, {"type": "error"})


class WriteBackKv(Kv):
    """The bug: puts are acknowledged from a buffer that is flushed to the durable store every ``flush``."""

    def __init__(self, report: str = "100ms", flush: str = "50ms") -> None:
        super().__init__(report)
        self.flush = flush
        self.buffer: dict[int, int] = {}

    def on_start(self, ctx: toron.Context) -> None:
        super().on_start(ctx)
        ctx.set_timer("flush", self.flush)

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        if name == "flush":
            self.data.update(self.buffer)
            self.buffer.clear()
            ctx.set_timer("flush", self.flush)
        else:
            super().on_timer(ctx, name)

    def read(self, key: int) -> int | None:
        return self.buffer.get(key, self.data.get(key))

    def write(self, ctx: toron.Context, key: int, value: int) -> None:
        self.buffer[key] = value
