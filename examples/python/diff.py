"""Diff two documents and print the one-line summary, the RFC 6902 patch and the coloured rendering.

The same example exists in C (examples/c/diff.c); from the same two documents every surface prints the same
summary and patch.

    python examples/python/diff.py [OLD.json NEW.json]
"""

from __future__ import annotations

import json
import sys
from typing import Any

import toron

OLD: Any = {"items": [{"id": 1, "price": 10}, {"id": 2, "price": 20}], "total": 30}
NEW: Any = {"items": [{"id": 0, "price": 5}, {"id": 1, "price": 10}, {"id": 2, "price": 21}], "total": 36}


def main(argv: list[str]) -> int:
    try:
        old, new = (toron.read_json(argv[0]), toron.read_json(argv[1])) if len(argv) == 2 else (OLD, NEW)
        d = toron.diff(old, new)
    except toron.Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(d.summary())
    print(json.dumps(d.patch, indent=2))
    print(d.render("color"))
    # The patch turns the old document into the new one.
    assert toron.apply_patch(old, d.patch) == new
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
