"""``import toron`` for the guide's scripts run with a plain ``python`` (as the README writes them).

Not part of the ``toron`` package on purpose: it runs exactly when that package is not importable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def import_toron_or_reexec(script: str) -> None:
    """Re-exec `script` (the caller's ``__file__``) under the project's ``.venv/bin/python`` when ``toron`` is
    not importable here, with a one-line note; a clear message and exit 2 when there is no ``.venv`` yet. No
    loop: never re-execs the same interpreter."""
    try:
        import toron  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name != "toron":
            raise
        path = Path(script).resolve()
        root = Path(__file__).resolve().parent.parent
        venv_python = root / ".venv" / "bin" / "python"
        here = Path(sys.executable).absolute()
        if venv_python.exists() and here != venv_python.absolute():
            print(
                f"note: toron is not importable by {sys.executable}; re-running under {venv_python}",
                file=sys.stderr,
            )
            os.execve(str(venv_python), [str(venv_python), str(path), *sys.argv[1:]], dict(os.environ))
        print(
            f"{path.name}: error: the toron module is not importable by {sys.executable}"
            f" and {venv_python} {'exists but has no toron' if venv_python.exists() else 'does not exist'};"
            " run `make setup python-build` in the repository first, then `source .venv/bin/activate`",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
