"""Running ``lmstudio-fake`` and ``python -m fake_server`` as real subprocesses, for the tests
of this folder.

Each test starts the server on 127.0.0.1 with ``--port 0``, reads its one ready line, talks
to it over HTTP and stops it with a signal. Every wait is bounded, and a process still
running at the end of a test is killed.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

READY = re.compile(r"lmstudio-fake listening on (http://127\.0\.0\.1:(\d+))")
START_SECONDS = 30.0
STOP_SECONDS = 10.0
HELLO = {"model": "qwen/qwen3-8b", "messages": [{"role": "user", "content": "Hello there"}]}
DEFAULT_IDS = [
    "qwen/qwen3-8b",
    "qwen2-vl-7b-instruct",
    "text-embedding-nomic-embed-text-v1.5",
    "openai/gpt-oss-20b",
]


def console_script() -> str:
    """The ``lmstudio-fake`` executable installed beside this interpreter."""
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in folders:
        found = shutil.which("lmstudio-fake", path=folder)
        if found:
            return found
    pytest.fail(
        f"the lmstudio-fake console script is not installed in {' or '.join(folders)}; "
        "run `pip install -e .` in this environment"
    )


COMMANDS = {
    "module": lambda: [sys.executable, "-m", "fake_server"],
    "script": lambda: [console_script()],
}


def _pump(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@dataclass
class Server:
    """A fake server subprocess whose stdout and stderr are read by background threads."""

    process: subprocess.Popen[str]
    stdout: queue.Queue[str | None] = field(default_factory=queue.Queue)
    stderr: queue.Queue[str | None] = field(default_factory=queue.Queue)
    threads: list[threading.Thread] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        assert self.process.stdout is not None and self.process.stderr is not None
        for stream, into in (
            (self.process.stdout, self.stdout),
            (self.process.stderr, self.stderr),
        ):
            thread = threading.Thread(target=_pump, args=(stream, into), daemon=True)
            thread.start()
            self.threads.append(thread)

    def wait_ready(self) -> str:
        """The URL of the ready line, which must be the first line on stdout."""
        try:
            line = self.stdout.get(timeout=START_SECONDS)
        except queue.Empty:
            self.kill()
            pytest.fail(f"no ready line within {START_SECONDS} s; stderr: {self.drain_stderr()}")
        if line is None:
            code = self.process.wait(STOP_SECONDS)
            pytest.fail(f"exited with {code} before its ready line; stderr: {self.drain_stderr()}")
        match = READY.fullmatch(line.rstrip("\n"))
        assert match is not None, f"unexpected first line {line!r}"
        self.url = match.group(1)
        return self.url

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        """Send ``signum``; return the exit code and the rest of stdout and stderr."""
        self.process.send_signal(signum)
        return self.finish()

    def finish(self) -> tuple[int, str, str]:
        try:
            code = self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {STOP_SECONDS} s later; stderr: {self.drain_stderr()}")
        for thread in self.threads:
            thread.join(STOP_SECONDS)
        out, err = self.drain(self.stdout), self.drain(self.stderr)
        assert "Traceback" not in err, err
        return code, out, err

    def drain_stderr(self) -> str:
        return self.drain(self.stderr)

    @staticmethod
    def drain(lines: queue.Queue[str | None]) -> str:
        out = []
        while True:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                out.append(line)
        return "".join(out)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_SECONDS)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Any]:
    """``run(*args, command="module")`` starts a fake subprocess; all are killed at the end."""
    started: list[Server] = []

    def start(*args: str, command: str = "module", env: dict[str, str] | None = None) -> Server:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        process = subprocess.Popen(
            [*COMMANDS[command](), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=tmp_path,
            env=env,
        )
        server = Server(process)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
        for stream in (server.process.stdout, server.process.stderr):
            if stream is not None:
                stream.close()


def refused(run: Any, *args: str, command: str = "module") -> tuple[int, str]:
    """Run a command line that must not start a server: its exit code and stderr."""
    server = run(*args, command=command)
    code, out, err = server.finish()
    assert "listening" not in out, f"it started a server: {out!r}"
    assert "Traceback" not in err, err
    return code, err


def get_json(url: str, path: str, **kwargs: Any) -> Any:
    response = httpx.get(url + path, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()
