"""Downloads: the models a fake offers for download, and the download jobs it runs.

A job's progress is a function of the fake's clock (``FakeLMStudio(clock=...)`` makes it
scriptable): ``downloading`` until ``seconds`` have passed since it started, then
``completed`` (the model joins the catalog at that moment: ``Catalog.schedule``) or, for a
download offered with ``fails=True``, ``failed``. Jobs live in the state: ``reset()``
forgets them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .._catalog import Catalog, Model

#: How long a download takes unless told otherwise, in seconds of the fake's clock.
DEFAULT_DOWNLOAD_SECONDS = 1.0
#: A download offered with ``fails=True`` fails when this share of its bytes is in.
FAIL_AT = 0.5
#: The bits a weight takes when the quantization's name does not say.
DEFAULT_BITS_PER_WEIGHT = 4.5
#: The size of a model whose name gives no parameter count.
DEFAULT_MODEL_SIZE = 1_000_000_000

_PARAMS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)b(?:-a(\d+(?:\.\d+)?)b)?(?![\w.])", re.IGNORECASE)
_BITS = re.compile(r"(\d+)")

__all__ = [
    "DEFAULT_DOWNLOAD_SECONDS",
    "DownloadJob",
    "Downloadable",
    "Downloads",
    "bits_per_weight",
    "estimated_size",
    "params_string",
]


def params_string(model: Model) -> str | None:
    """The parameter count LM Studio shows (``8B``, ``26B-A4B``), read from the model's
    name; None when the name gives none (embedding models, as LM Studio's list shows)."""
    if model.type == "embeddings":
        return None
    match = _PARAMS.search(model.id.rpartition("/")[2].replace("_", "-"))
    if match is None:
        return None
    total, active = match.groups()
    return f"{total}B" + (f"-A{active}B" if active else "")


def bits_per_weight(quantization: str) -> int | None:
    """``Q4_K_M`` -> 4, ``Q8_0`` -> 8, ``F16`` -> 16, ``4bit`` -> 4, ``MXFP4`` -> 4."""
    match = _BITS.search(quantization)
    return int(match.group(1)) if match else None


def estimated_size(model: Model) -> int:
    """The model file's size: as given, else its parameters times their bits."""
    if model.size_bytes is not None:
        return model.size_bytes
    params = params_string(model)
    if params is None:
        return DEFAULT_MODEL_SIZE
    billions = float(params.split("B", 1)[0])
    bits = bits_per_weight(model.quantization) or DEFAULT_BITS_PER_WEIGHT
    return int(billions * 1e9 * (bits + 0.5) / 8)


@dataclass(frozen=True)
class Downloadable:
    """A model the fake can download: it joins the catalog ``seconds`` after a download
    starts (with ``fails``, never: the download fails half way)."""

    model: Model
    seconds: float = DEFAULT_DOWNLOAD_SECONDS
    fails: bool = False


@dataclass(frozen=True)
class DownloadJob:
    """One download: started at ``started`` (the fake's clock), ``seconds`` long."""

    id: str
    key: str
    size_bytes: int
    started: float
    seconds: float
    fails: bool

    def fraction(self, now: float) -> float:
        if self.seconds <= 0:
            return 1.0
        return min(max((now - self.started) / self.seconds, 0.0), 1.0)

    def status(self, now: float) -> str:
        if self.fails and self.fraction(now) >= FAIL_AT:
            return "failed"
        return "downloading" if self.fraction(now) < 1.0 else "completed"

    def downloaded(self, now: float) -> int:
        return int(self.size_bytes * min(self.fraction(now), FAIL_AT if self.fails else 1.0))

    @property
    def ends(self) -> float:
        return self.started + self.seconds


class Downloads:
    """What can be downloaded, and the jobs started. Not thread-safe: the engine's lock."""

    def __init__(self, offered: Iterable[Downloadable] = ()) -> None:
        self.offered: dict[str, Downloadable] = {d.model.id: d for d in offered}
        self.jobs: dict[str, DownloadJob] = {}

    def copy(self) -> Downloads:
        """The same offers, no jobs (a reset forgets them)."""
        return Downloads(
            Downloadable(d.model.copy(), d.seconds, d.fails) for d in self.offered.values()
        )

    def offer(self, downloadable: Downloadable) -> None:
        self.offered[downloadable.model.id] = downloadable

    def running(self, key: str, now: float) -> DownloadJob | None:
        """The job downloading ``key`` now, if one is."""
        for job in self.jobs.values():
            if job.key == key and job.status(now) == "downloading":
                return job
        return None

    def start(self, key: str, now: float, catalog: Catalog, seed: int) -> DownloadJob:
        """Start downloading the offered model ``key``; its model joins ``catalog`` when
        the job completes."""
        offer = self.offered[key]
        digest = hashlib.blake2b(
            f"{seed}\x00{key}\x00{len(self.jobs)}".encode("utf-8", "surrogatepass"), digest_size=5
        )
        job = DownloadJob(
            f"job_{digest.hexdigest()}",
            key,
            estimated_size(offer.model),
            now,
            offer.seconds,
            offer.fails,
        )
        self.jobs[job.id] = job
        if not offer.fails:
            catalog.schedule(offer.model.copy(), job.ends)
        return job


def default_downloadables() -> list[Downloadable]:
    """What a fresh fake offers: the model of LM Studio's download example."""
    return [
        Downloadable(
            Model(
                "ibm/granite-4-micro",
                publisher="ibm",
                arch="granitehybrid",
                max_context_length=131072,
                capabilities=["tool_use"],
                size_bytes=2279145003,
            ),
            seconds=10.0,
        )
    ]
