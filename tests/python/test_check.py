"""`toron.check_linearizable` and `toron check-history`: the shared vectors, histories as dicts, JSON, EDN
and files, the counterexample, the budget (unknown, exit 4) and bad input (a named error, exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import REPO, child_env

TORON = Path(sys.executable).parent / "toron"
VECTORS: list[dict[str, Any]] = json.loads(
    (REPO / "tests" / "vectors" / "linearizable.json").read_text(encoding="utf-8")
)["cases"]

STALE_READ = [
    {"process": 0, "type": "invoke", "f": "write", "value": 1},
    {"process": 0, "type": "ok", "f": "write", "value": 1},
    {"process": 0, "type": "invoke", "f": "write", "value": 2},
    {"process": 0, "type": "ok", "f": "write", "value": 2},
    {"process": 1, "type": "invoke", "f": "read"},
    {"process": 1, "type": "ok", "f": "read", "value": 1},
]

STALE_READ_EDN = """\
{:index 0 :type :invoke :process 0 :f :write :value 1}
{:index 1 :type :ok :process 0 :f :write :value 1}
{:index 2 :type :info :process :nemesis :f :start :value nil}
{:index 3 :type :invoke :process 0 :f :write :value 2}
{:index 4 :type :ok :process 0 :f :write :value 2}
{:index 5 :type :invoke :process 1 :f :read :value nil}
{:index 6 :type :ok :process 1 :f :read :value 1}
"""


def toron_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TORON), *args], env=child_env(), capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_vectors(case: dict[str, Any]) -> None:
    verdict = toron.check_linearizable(case["history"], model=case["model"], budget=case.get("budget"))
    expect = None if case["expect"] == "unknown" else case["expect"]
    assert verdict["linearizable"] is expect
    assert (verdict["counterexample"] is not None) == (expect is False)


def test_stale_read_from_dicts_json_edn_and_file(tmp_path: Path) -> None:
    verdict = toron.check_linearizable(STALE_READ, model="register")
    assert verdict["linearizable"] is False
    assert verdict["model"] == "register"
    assert verdict["partitions"] == 1
    ops = verdict["counterexample"]["ops"]
    assert [(o["f"], o["value"], o["result"]) for o in ops] == [
        ("write", 1, 1),
        ("write", 2, 2),
        ("read", None, 1),
    ]
    assert toron.check_linearizable(json.dumps(STALE_READ), model="register") == verdict
    edn = toron.check_linearizable(STALE_READ_EDN, model="register")
    assert edn["linearizable"] is False
    assert [o["invoke_index"] for o in edn["counterexample"]["ops"]] == [0, 3, 5]
    path = tmp_path / "history.edn"
    path.write_text(STALE_READ_EDN, encoding="utf-8")
    assert toron.check_linearizable(path, model="register") == edn
    assert toron.check_linearizable(str(path), model="register") == edn
    assert toron.check_linearizable(STALE_READ_EDN.encode(), model="register") == edn


def test_kv_default_model_and_jepsen_tuples() -> None:
    history = [
        {"process": 0, "type": "invoke", "f": "write", "value": [1, 3]},
        {"process": 0, "type": "ok", "f": "write", "value": [1, 3]},
        {"process": 1, "type": "invoke", "f": "read", "value": [1, None]},
        {"process": 1, "type": "ok", "f": "read", "value": [1, None]},
    ]
    verdict = toron.check_linearizable(history)
    assert (verdict["model"], verdict["linearizable"]) == ("kv", False)
    assert verdict["counterexample"]["key"] == 1


def test_bad_input_raises_named_errors(tmp_path: Path) -> None:
    with pytest.raises(toron.InvalidArgumentError) as e:
        toron.check_linearizable([{"process": 0, "type": "done", "f": "read"}], model="register")
    assert (e.value.field, e.value.op_index) == ("type", 0)
    with pytest.raises(toron.InvalidArgumentError) as e:
        toron.check_linearizable([{"process": 0, "type": "invoke", "f": "enqueue"}], model="register")
    assert e.value.field == "f"
    with pytest.raises(toron.InvalidArgumentError, match="unknown model"):
        toron.check_linearizable([], model="registr")  # type: ignore[arg-type]
    with pytest.raises(toron.JsonError) as j:
        toron.check_linearizable('[{"process": 0,\n "type": }]', model="register")
    assert j.value.line == 2
    with pytest.raises(toron.InvalidArgumentError) as edn:
        toron.check_linearizable("{:process 0 :type :ok\n :f [}", model="register")
    assert edn.value.line is not None
    with pytest.raises(toron.IoError):
        toron.check_linearizable(tmp_path / "missing.json", model="register")
    with pytest.raises(TypeError):
        toron.check_linearizable(42, model="register")  # type: ignore[arg-type]


def test_cli_exit_codes(tmp_path: Path) -> None:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")
    bad = tmp_path / "stale.json"
    bad.write_text(json.dumps(STALE_READ), encoding="utf-8")
    out = toron_cli("check-history", str(bad), "--model", "register")
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("NOT linearizable (register")
    assert "cannot be ordered" in out.stdout

    good = tmp_path / "good.edn"
    good.write_text(STALE_READ_EDN.replace(":f :read :value 1}", ":f :read :value 2}"), encoding="utf-8")
    out = toron_cli("check-history", str(good), "--model", "register", "--json")
    assert out.returncode == 0, out.stdout + out.stderr

    unknown = next(c for c in VECTORS if c["expect"] == "unknown")
    hard = tmp_path / "hard.json"
    hard.write_text(json.dumps(unknown["history"]), encoding="utf-8")
    out = toron_cli("check-history", str(hard), "--model", "register", "--budget", "10")
    assert out.returncode == 4, out.stdout + out.stderr
    assert out.stdout.startswith("unknown")

    out = toron_cli("check-history", str(tmp_path / "missing.json"), "--model", "register")
    assert out.returncode == 2
    assert "missing.json" in out.stderr
    out = toron_cli("check-history", str(bad), "--model", "kv")
    assert out.returncode == 2
    assert "needs a key" in out.stderr
    out = toron_cli("check-history", "--help")
    assert "4  unknown" in out.stdout
