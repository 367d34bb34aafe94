"""Nodes that fail in each way a test checks."""

from __future__ import annotations

import toron


class RaisesInMessage(toron.Node):
    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        raise ValueError(f"boom at {ctx.now}")


class RaisesInInit(toron.Node):
    def __init__(self) -> None:
        raise RuntimeError("cannot build")


class SendsASet(toron.Node):
    def on_start(self, ctx: toron.Context) -> None:
        ctx.send("server", {"items": {1, 2}})


class NotANode:
    pass
