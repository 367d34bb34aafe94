"""The echo node of examples/python/echo_node.py, importable beside echo_here.toml."""

from __future__ import annotations

import toron


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
