"""A real client of ``POST /api/v1/models/load``: the ``llm`` CLI with the ``llm-lmstudio``
plugin, run as a user would (a subprocess, its config in a temporary directory).

The plugin finds LM Studio through ``LMSTUDIO_API_BASE``, lists the models on
``/api/v0/models``, asks ``/api/v0/models/{id}`` whether the chosen one is loaded, loads it
with ``POST /api/v1/models/load`` when it is not (it requires ``status: "loaded"``), then
chats on ``/api/v0/chat/completions``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_server import FakeLMStudio

LLM = Path(sys.executable).with_name("llm")


def test_llm_lmstudio_loads_a_cold_model_through_rest_v1(tmp_path: Path) -> None:
    with FakeLMStudio() as fake:
        fake.add_model("acme/cold-7b", loaded=False, load_seconds=0.2)
        fake.chat.reply("Hello from the fake.")
        env = {
            **os.environ,
            "LMSTUDIO_API_BASE": fake.url,
            "LMSTUDIO_TIMEOUT": "10",
            "LLM_USER_PATH": str(tmp_path),
            "LLM_LMSTUDIO_DEBUG": "1",
        }
        result = subprocess.run(
            [str(LLM), "-m", "lmstudio/acme/cold-7b", "--no-log", "Say hi"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "Hello from the fake."
        assert "loaded in 0.200s as instance 'acme/cold-7b'" in result.stderr
        seen = [(r.method, r.path, r.status, r.api) for r in fake.requests]
        assert seen[-2:] == [
            ("POST", "/api/v1/models/load", 200, "rest-v1"),
            ("POST", "/api/v0/chat/completions", 200, "rest-v0"),
        ]
        assert fake.requests[-2].json == {"model": "acme/cold-7b"}
        assert [m.loaded for m in fake.catalog if m.id == "acme/cold-7b"] == [True]
        fake.check()
