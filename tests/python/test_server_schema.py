"""The server against its own OpenAPI document: schemathesis generates requests for every operation of a live
server's `/openapi.json` (a fixed number per operation, a fixed seed) and checks that none is answered with a
5xx and every response is one the document describes (status, content type, body schema)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import serving

from conftest import child_env


def test_no_generated_request_gets_a_5xx_or_a_response_outside_the_schema(tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("schemathesis")
    if not st.exists() and shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is not installed: `make setup` installs requirements-dev.txt")
    # Generated requests come fast: the rate limit is not what this test is about (test_server checks 429).
    server = serving.start(tmp_path, "--rate-limit", "100000")
    try:
        argv = [
            str(st) if st.exists() else "schemathesis",
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "12",
            "--seed",
            "1",
            "--generation-deterministic",
            "--no-shrink",
            "--request-timeout",
            "10",
            "-H",
            f"Authorization: Bearer {serving.TOKENS['operator']}",
        ]
        # In tmp_path: schemathesis keeps a `.schemathesis/` cache in its working directory.
        done = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=170, env=child_env(), cwd=tmp_path
        )
        report = done.stdout + done.stderr
        assert done.returncode == 0, (
            report[-6000:] + "\n--- server log ---\n" + server.log.read_text()[-3000:]
        )
    finally:
        server.stop()
