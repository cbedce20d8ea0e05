"""What a fresh process loads to start a fake and get its first default answer: nothing a
test may never need (Faker is not a dependency any more; the structured-output generator,
jsonschema's precise validators and TOML load on first use). The time itself is measured by
``tests/benchmarks/bench_cold_start.py``, not here."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import http.client, json, sys
import fake_server
imported = set(sys.modules)
with fake_server.FakeLMStudio() as fake:
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)
    body = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}
    connection.request("POST", "/v1/chat/completions", json.dumps(body))
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
print(json.dumps({
    "status": response.status,
    "content": answer["choices"][0]["message"]["content"],
    "at_import": sorted(imported),
    "after_answer": sorted(sys.modules),
}))
"""
NEVER = ("faker", "jsonschema", "referencing", "tomllib", "tomli", "fake_server._schema_json")


def test_a_first_default_answer_loads_nothing_a_test_may_never_need() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["status"] == 200 and seen["content"]
    for phase in ("at_import", "after_answer"):
        loaded = [m for m in seen[phase] if m.split(".")[0] in NEVER or m in NEVER]
        assert loaded == [], phase
    # The compiled validators are needed by the first answer, not by the import.
    assert "fastjsonschema" not in seen["at_import"]
    assert "fastjsonschema" in seen["after_answer"]
