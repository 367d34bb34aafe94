"""`toron fixtures`: one table to stdout, every table to a directory with the summary, exit 2 with a named
error on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import toron
from conftest import REPO, child_env

TORON = Path(sys.executable).parent / "toron"
EXAMPLE = REPO / "examples" / "datasets" / "customers.toml"
VECTORS = json.loads((REPO / "tests" / "vectors" / "fixtures.json").read_text(encoding="utf-8"))


def toron_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(TORON), *args], env=env or child_env(), capture_output=True, timeout=120, check=False
    )


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not TORON.exists():
        pytest.fail(f"the toron script is not installed at {TORON} (run maturin develop)")


def test_out_writes_every_table_and_prints_the_summary(tmp_path: Path) -> None:
    case = next(c for c in VECTORS["cases"] if c["name"] == "customers-csv")
    out = toron_cli("fixtures", str(EXAMPLE), "--seed", "42", "--out", str(tmp_path), "--format", "csv")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["digest"] == case["digest"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "orders.csv"]
    assert [t["digest"] for t in summary["tables"]] == [t["digest"] for t in case["tables"]]


def test_one_table_to_stdout() -> None:
    out = toron_cli("fixtures", str(EXAMPLE), "--seed", "42", "--table", "orders")
    assert out.returncode == 0, out.stderr
    assert out.stdout == toron.Dataset.from_file(EXAMPLE).dump("orders", 42, "jsonl")
    one = REPO / "tests" / "vectors" / "fixtures" / "kinds.json"
    out = toron_cli("fixtures", str(one), "--seed", "3", "--table", "links", "--format", "json")
    assert (
        json.loads(out.stdout)[0]
        == next(c for c in VECTORS["cases"] if c["name"] == "kinds-jsonl")["tables"][1]["first"][0]
    )


def test_seed_defaults_to_sim_seed() -> None:
    env = child_env()
    env["SIM_SEED"] = "42"
    a = toron_cli("fixtures", str(EXAMPLE), "--table", "orders", env=env)
    b = toron_cli("fixtures", str(EXAMPLE), "--table", "orders", "--seed", "42")
    assert a.returncode == 0 and a.stdout == b.stdout


def test_bad_input_exits_2_with_a_named_error(tmp_path: Path) -> None:
    out = toron_cli("fixtures", str(EXAMPLE), "--seed", "1")
    assert out.returncode == 2
    assert b"2 tables (customers, orders)" in out.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace('table = "customers"', 'table = "custmers"'))
    out = toron_cli("fixtures", str(bad), "--out", str(tmp_path / "o"))
    assert out.returncode == 2
    assert f"{bad}:".encode() in out.stderr and b"table[1].field[1].table" in out.stderr
    assert not (tmp_path / "o").exists()
    out = toron_cli("fixtures", str(tmp_path / "missing.toml"))
    assert out.returncode == 2 and b"missing.toml" in out.stderr
    out = toron_cli("fixtures", str(EXAMPLE), "--table", "nope")
    assert out.returncode == 2 and b"unknown table" in out.stderr
    out = toron_cli("fixtures", str(EXAMPLE), "--seed", "-1", "--table", "orders")
    assert out.returncode == 2
    out = toron_cli("fixtures", str(EXAMPLE), "--format", "xml")
    assert out.returncode == 2
