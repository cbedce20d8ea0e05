"""``pytest -n 2``: each xdist worker has its own fake, and nothing is shared between them."""

from __future__ import annotations

import re
from collections import defaultdict

from .conftest import XDIST_PLUGIN, Project


def test_each_xdist_worker_has_its_own_fake(project: Project) -> None:
    project.tests(
        """
        import os

        import httpx
        import pytest

        BODY = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hi"}]}

        @pytest.mark.parametrize("case", range(12))
        def test_case(lmstudio_fake, case):
            assert lmstudio_fake.rules == [] and lmstudio_fake.requests == []
            lmstudio_fake.chat.reply(f"case {case}", times=1)
            answer = httpx.post(lmstudio_fake.url + "/v1/chat/completions", json=BODY).json()
            assert answer["choices"][0]["message"]["content"] == f"case {case}"
            print("WORKER", os.environ["PYTEST_XDIST_WORKER"], lmstudio_fake.port)
        """
    )
    result = project.run_subprocess("-n", "2", "-rP", plugins=XDIST_PLUGIN)
    result.assert_outcomes(passed=12)
    ports: dict[str, set[int]] = defaultdict(set)
    for worker, port in re.findall(r"^WORKER (gw\d) (\d+)$", result.stdout.str(), re.MULTILINE):
        ports[worker].add(int(port))
    assert sum(1 for line in result.outlines if line.startswith("WORKER ")) == 12
    assert sorted(ports) == ["gw0", "gw1"], result.stdout.str()
    assert all(len(seen) == 1 for seen in ports.values()), ports
    assert ports["gw0"] != ports["gw1"]
