"""An echo node written in Python: the built-in `echo` model's behaviour, and the same digest.

Run: ``python examples/python/echo_node.py``. The node answers every client request with ``{"type": "ok"}``
(which becomes the kernel's typed reply, so load clients measure latency as for a built-in node) and counts
its answers in ``ctx.output``.
"""

from __future__ import annotations

from pathlib import Path

import toron


class Echo(toron.Node):
    """Answers each echo request at once."""

    def __init__(self) -> None:
        self.answered = 0

    def on_message(self, ctx: toron.Context, src: str, msg: toron.Message) -> None:
        if msg.body == {"type": "echo"}:
            self.answered += 1
            ctx.output["answered"] = self.answered
            ctx.reply(msg, {"type": "ok"})
        else:
            ctx.reply(msg, {"type": "error"})


def main() -> None:
    path = Path(__file__).resolve().parents[1] / "scenarios" / "echo.toml"
    builtin = toron.Scenario.from_file(path)
    python = toron.Scenario.from_file(path, nodes={"server": Echo()})
    a, b = toron.simulate(builtin), toron.simulate(python)
    print(f"built-in echo: {a.digest}")
    print(f"python echo:   {b.digest}")
    assert a.digest == b.digest and a.output == b.output, "the Python echo node must match the built-in one"


if __name__ == "__main__":
    main()
