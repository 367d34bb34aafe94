"""The PII scrubber from Python: the shared vectors, placeholders, JSON values, strict mode and bad input."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import toron
from conftest import REPO

VECTORS: dict[str, Any] = json.loads((REPO / "tests" / "vectors" / "pii.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]


def findings_of(found: list[toron.Finding]) -> list[dict[str, str]]:
    return [f.to_dict() for f in found]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vectors(case: dict[str, Any]) -> None:
    kinds = case["kinds"] or None
    allow = case["allow"] or None
    if "text" in case:
        out = toron.scrub(case["text"], kinds, allow, key=case["key"])
        assert out.text == case["scrubbed"]
        assert out.value is None
    else:
        out = toron.scrub(case["value"], kinds, allow, key=case["key"])
        assert out.value == case["scrubbed"]
        assert out.text is None
    assert findings_of(out.findings) == case["findings"]
    assert bool(out) == bool(case["findings"])
    source = case.get("text", case.get("value"))
    assert findings_of(toron.scan(source, kinds, allow, key=case["key"])) == case["findings"]


def test_finding_attributes() -> None:
    [f] = toron.scan("a\n  bob@corp.io", key="k")
    assert (f.kind, f.line, f.column, f.pointer, f.location) == ("email", 2, 3, None, "2:3")
    assert f.placeholder.startswith("<EMAIL:") and len(f.placeholder) == len("<EMAIL:12345678>")
    [g] = toron.scan({"user": {"email": "bob@corp.io"}}, key="k")
    assert (g.line, g.column, g.pointer, g.location) == (None, None, "/user/email", "/user/email")
    assert g.placeholder == f.placeholder
    assert "bob" not in repr(f)


def test_placeholders_are_stable_and_keyed() -> None:
    a = toron.scrub("x alice@corp.io", key="one").text
    assert a == toron.scrub("x alice@corp.io", key="one").text
    assert a != toron.scrub("x alice@corp.io", key="two").text
    raw = bytes(range(32))
    assert toron.scrub("alice@corp.io", key=raw).text == toron.scrub("alice@corp.io", key=raw).text
    with pytest.raises(toron.PiiError, match="32 bytes"):
        toron.scrub("x", key=b"short")
    with pytest.raises(TypeError):
        toron.scrub("x", key=5)  # type: ignore[arg-type]


def test_default_key_comes_from_env_then_the_archive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORON_PII_KEY", "from env")
    assert toron.scrub("a@corp.io").text == toron.scrub("a@corp.io", key="from env").text
    assert not (tmp_path / ".toron").exists()
    monkeypatch.delenv("TORON_PII_KEY")
    first = toron.scrub("a@corp.io").text
    key_file = tmp_path / ".toron" / "pii.key"
    assert key_file.stat().st_size == 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert toron.scrub("a@corp.io").text == first
    assert toron.scrub("a@corp.io", key=key_file.read_bytes()).text == first


def test_key_context_and_escaped_pem_in_json() -> None:
    pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----"
    doc = json.loads(json.dumps({"password": "hunter2hunter2", "ssn": 123456789, "cfg": {"key": pem}}))
    out = toron.scrub(doc, key="k")
    assert [(f.kind, f.pointer) for f in out.findings] == [
        ("private_key", "/cfg/key"),
        ("token", "/password"),
        ("ssn", "/ssn"),
    ]
    assert out.value["ssn"].startswith("<SSN:")
    text = json.dumps({"key": pem})  # a JSON text: the newlines are \n escapes
    [f] = toron.scan(text, key="k")
    assert f.kind == "private_key"
    assert "MHcC" not in str(toron.scrub(text, key="k").text)


def test_strict_raises_naming_kind_and_location() -> None:
    assert not toron.scrub("nothing here", key="k", strict=True)
    with pytest.raises(toron.PiiError) as e:
        toron.scrub("line\ncard 4111 1111 1111 1111", key="k", strict=True)
    assert str(e.value) == "strict mode: 1 finding: card at 2:6"
    assert "4111" not in str(e.value)
    assert isinstance(e.value, ValueError)
    with pytest.raises(toron.PiiError, match="/a"):
        toron.scan({"a": "bob@corp.io"}, key="k", strict=True)


def test_bad_kind_names_the_field() -> None:
    with pytest.raises(toron.PiiError) as e:
        toron.scrub("x", ["email", "card", "mail"], key="k")
    assert e.value.field == "kinds[2]"
    assert "expected one of: email, phone" in str(e.value)
    with pytest.raises(toron.PiiError):
        toron.scan("x", [1], key="k")  # type: ignore[list-item]
    assert toron.scan("a@corp.io 10.0.0.1", "ipv4", key="k")[0].kind == "ipv4"


def test_allow_list() -> None:
    out = toron.scrub("qa@Example.com and bob@corp.io", allow=["*@example.com"], key="k")
    assert [f.location for f in out.findings] == ["1:20"]
    assert out.text is not None and out.text.startswith("qa@Example.com and <EMAIL:")


def test_big_input_from_threads() -> None:
    line = "user bob@corp.io from 10.0.0.1 paid 4111-1111-1111-1111 ok\n"
    text = line * 5000  # above the size that releases the GIL
    want = toron.scrub(text, key="k").text
    results: list[str | None] = []

    def work() -> None:
        results.append(toron.scrub(text, key="k").text)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [want] * 3
    assert want is not None and "bob@" not in want and want.count("<CARD:") == 5000
