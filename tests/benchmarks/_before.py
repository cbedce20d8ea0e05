"""The code of an earlier commit, measured beside the checkout's in the same run.

A figure of another day on another machine does not compare; the same benchmark run on the
code before a change and after it, interleaved, does. ``archived`` unpacks the packages of a
commit of this repository (``git archive``) into a folder that goes first on ``PYTHONPATH`` (or
``sys.path``) of the process measuring it; the dependencies are the checkout's.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

from _harness import ROOT

#: The last commit before the fake was split into engine, doors and HTTP shell: ``make bench``
#: measures its throughput and per-test cost beside the checkout's.
REFACTOR_BASE = "81671e8"
#: What a fake and its plugin need of a checkout.
PACKAGES = ("fake_server", "schemas", "pytest_lmstudio")
ARCHIVE_TIMEOUT = 120.0


def archived(commit: str, into: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    """``packages`` as they were at ``commit`` of this repository, unpacked in ``into``."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, *packages],
        capture_output=True,
        timeout=ARCHIVE_TIMEOUT,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"git archive {commit}: {done.stderr.decode(errors='replace').strip()} (the "
            "benchmark needs this repository's history: a clone, not an exported tree)"
        )
    with tempfile.TemporaryFile() as tar:
        tar.write(done.stdout)
        tar.seek(0)
        with tarfile.open(fileobj=tar) as archive:
            archive.extractall(into, filter="data")
    return into
