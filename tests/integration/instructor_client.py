"""Runs in a venv of its own (see test_instructor.py): instructor in JSON_SCHEMA mode against the
fake at ``$LMSTUDIO_FAKE_BASE_URL``.

Reads the calls to make as a JSON list on stdin, each ``{"model": name in models.MODELS,
"prompt": text, "client": "sync" | "async" | "partial"}``, and prints one JSON line per call:
``{"model": name, "output": <the validated object, model_dump(mode="json")>}``, or
``{"model": name, "error": text}``. Imports nothing of this repository but ``models.py`` (by
path), so it runs with instructor's own pins.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import instructor
import openai
from pydantic import BaseModel

LLM = "qwen/qwen3-8b"


def load_models() -> dict[str, type[BaseModel]]:
    spec = importlib.util.spec_from_file_location("models", Path(__file__).with_name("models.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["models"] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return {model.__name__: model for model in module.MODELS}


def messages(prompt: str) -> list[Any]:
    return [{"role": "user", "content": prompt}]


async def run_async(base_url: str, model: type[BaseModel], prompt: str) -> BaseModel:
    async with openai.AsyncOpenAI(base_url=base_url, api_key="lm-studio", max_retries=0) as raw:
        client = instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA)
        result: BaseModel = await client.chat.completions.create(
            model=LLM, messages=messages(prompt), response_model=model, max_retries=0
        )
        return result


def main() -> int:
    base_url = os.environ["LMSTUDIO_FAKE_BASE_URL"]
    models = load_models()
    calls = json.load(sys.stdin)
    with openai.OpenAI(base_url=base_url, api_key="lm-studio", max_retries=0) as raw:
        client = instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA)
        for call in calls:
            model = models[call["model"]]
            try:
                if call["client"] == "async":
                    output = asyncio.run(run_async(base_url, model, call["prompt"]))
                elif call["client"] == "partial":
                    *_, output = client.chat.completions.create_partial(
                        model=LLM, messages=messages(call["prompt"]), response_model=model
                    )
                else:
                    output = client.chat.completions.create(
                        model=LLM,
                        messages=messages(call["prompt"]),
                        response_model=model,
                        max_retries=0,
                    )
            except Exception as exc:  # reported to the test, which shows it
                print(json.dumps({"model": call["model"], "error": f"{type(exc).__name__}: {exc}"}))
                continue
            assert isinstance(output, model), type(output)
            print(json.dumps({"model": call["model"], "output": output.model_dump(mode="json")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
