"""A single-node key-value store in Python, for tests: answers get/put; `durable` decides what a crash keeps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import toron


class Kv(toron.Node):
    """Keeps `data` across crashes (declared durable); `served` is lost on each crash."""

    durable: ClassVar[Sequence[str]] = ("data",)

    def __init__(self) -> None:
        self.data: dict[str, int] = {}
        self.served = 0

    def on_start(self, ctx: toron.Context) -> None:
        ctx.set_timer("tick", "100ms")

    def on_restart(self, ctx: toron.Context, state: dict[str, Any]) -> None:
        ctx.mark("kv.restarted")
        ctx.log(f"restart {ctx.incarnation} with {len(state.get('data', {}))} keys")
        super().on_restart(ctx, state)

    def on_timer(self, ctx: toron.Context, name: str) -> None:
        ctx.output["keys"] = len(self.data)
        ctx.set_timer("tick", 100_000_000)

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        body = msg.body
        self.served += 1
        ctx.output["served"] = self.served
        if body["type"] == "get":
            ctx.reply(msg, {"type": "value", "value": self.data.get(str(body["key"]))})
        elif body["type"] == "put":
            self.data[str(body["key"])] = body["value"]
            ctx.reply(msg, {"type": "ok"})
        else:
            ctx.reply(msg, {"type": "error"})


class KvForgetful(Kv):
    """The same store with nothing durable: a crash loses every key."""

    durable: ClassVar[Sequence[str]] = ()
