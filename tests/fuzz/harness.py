"""The fake under test as a subprocess (its RSS, its stderr, its journal file), and the
checks of the journal file."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FakeProcess", "JournalReport", "ServerLog", "exit_on_sigterm", "read_journal"]

REPO = Path(__file__).resolve().parents[2]
_READY = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
_STOPPED = "lmstudio-fake stopped"


@dataclass
class ServerLog:
    """What the fake wrote to stderr: tracebacks and any other line, both failures."""

    tracebacks: int
    lines: list[str]

    def exceptions(self) -> Counter[str]:
        """The exception that ends each traceback, by type: which noise is which."""
        out: Counter[str] = Counter()
        inside = False
        for line in self.lines:
            if line.startswith("Traceback (most recent call last)"):
                inside = True
            elif inside and line and not line[0].isspace():
                if not line.startswith(("During handling", "The above exception")):
                    out[line.split(":", 1)[0]] += 1
                inside = False
        return out

    @property
    def noise(self) -> list[str]:
        return [line for line in self.lines if line.strip() and line.strip() != _STOPPED]


class FakeProcess:
    """``python -m fake_server --port 0 --journal FILE``, on 127.0.0.1."""

    def __init__(self, workdir: Path, args: tuple[str, ...] = ()) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.journal = workdir / "journal.jsonl"
        self.journal.unlink(missing_ok=True)
        self._stdout = workdir / "stdout.txt"
        self._stderr = workdir / "stderr.txt"
        self._args = args
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> None:
        command = [sys.executable, "-m", "fake_server", "--host", "127.0.0.1", "--port", "0"]
        command += ["--journal", str(self.journal), *self._args]
        with self._stdout.open("wb") as out, self._stderr.open("wb") as err:
            self._proc = subprocess.Popen(
                command, stdout=out, stderr=err, cwd=REPO, preexec_fn=_die_with_parent
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _READY.search(self._stdout.read_text(errors="replace"))
            if found:
                self.port = int(found.group(1))
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the fake did not start: {self._stderr.read_text(errors='replace')}")

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def rss_kib(self) -> int:
        """The fake's resident memory (VmRSS), KiB; 0 once it has exited."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        return int(found.group(1)) if found else 0

    def cpu_seconds(self) -> float:
        """CPU time the fake has used (user + system); 0 once it has exited."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> ServerLog:
        text = self._stderr.read_text(errors="backslashreplace")
        return ServerLog(text.count("Traceback (most recent call last)"), text.splitlines())

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the journal file is then complete), SIGKILL if it does not stop."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def journal_lines(self) -> int:
        try:
            with self.journal.open("rb") as f:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        except FileNotFoundError:
            return 0

    def wait_journal(self, expected: int, settle: float = 1.0, limit: float = 20.0) -> int:
        """The journal's line count once it reaches ``expected`` or stops growing."""
        deadline, last, since = time.monotonic() + limit, -1, time.monotonic()
        while time.monotonic() < deadline:
            lines = self.journal_lines()
            if lines >= expected:
                time.sleep(0.2)  # a late line past the expected count shows up too
                return self.journal_lines()
            if lines != last:
                last, since = lines, time.monotonic()
            elif time.monotonic() - since >= settle:
                break
            time.sleep(0.1)
        return self.journal_lines()


def _die_with_parent() -> None:
    """In the child: SIGKILL when the fuzz dies, so that no fake outlives its run."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def exit_on_sigterm() -> None:
    """``timeout`` sends SIGTERM: unwind (finally blocks stop the fake) instead of dying."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@dataclass
class JournalReport:
    lines: int = 0
    bad: list[str] = field(default_factory=list)
    bad_count: int = 0


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-JSON literal {name}")


def read_journal(path: Path, keep: int = 5) -> JournalReport:
    """Every line strict JSON: UTF-8, no NaN/Infinity, no lone surrogate left raw."""
    report = JournalReport()
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        report.bad_count += 1
        report.bad.append("the file does not end with a newline (a line cut short)")
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw:
            continue
        report.lines += 1
        problem = None
        try:
            line = raw.decode("utf-8")
            json.loads(line, parse_constant=_reject_constant)
            line.encode("utf-8")
        except UnicodeError as exc:
            problem = f"not UTF-8 ({exc.reason})"
        except ValueError as exc:
            problem = f"not strict JSON ({exc})"
        if problem is not None:
            report.bad_count += 1
            if len(report.bad) < keep:
                report.bad.append(f"line {number}: {problem}: {raw[:160]!r}")
    return report


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
