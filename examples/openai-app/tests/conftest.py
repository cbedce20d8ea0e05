from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the app, beside tests/


@pytest.fixture
def client(lmstudio_fake) -> Iterator[openai.OpenAI]:
    """The app's client on the fake: no retries and a short timeout, so failures show at once."""
    with openai.OpenAI(
        base_url=lmstudio_fake.base_url, api_key="lm-studio", max_retries=0, timeout=2
    ) as client:
        yield client
