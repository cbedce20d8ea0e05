"""``fake.downloads``: the models a fake offers for ``POST /api/v1/models/download``, and the
jobs it ran.

``fake.downloads.offer("ibm/granite-4-micro", size_bytes=2_279_145_003, seconds=5)`` makes
the model downloadable: a download takes ``seconds`` of the fake's clock (pass
``FakeLMStudio(clock=...)`` to script time), reporting its bytes as it goes, then the model
is in the catalog (not loaded). ``fails=True`` makes the download fail half way. Like
``add_model``, an offer lasts until ``reset()``; the jobs too.
"""

from __future__ import annotations

from typing import Any

from ._catalog import MAX_SECONDS, ModelType, new_model, seconds_in_range
from ._errors import ScriptError
from .engine import DEFAULT_DOWNLOAD_SECONDS, Downloadable, DownloadJob, Engine

__all__ = ["DownloadScript"]

#: The largest size a download may claim (a few terabytes: any model there is).
MAX_SIZE_BYTES = 10**13


class DownloadScript:
    """The downloads of one fake (``fake.downloads``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __repr__(self) -> str:
        return f"<DownloadScript offered={sorted(self.offered)}>"

    def offer(
        self,
        id: str,
        type: ModelType = "llm",
        *,
        size_bytes: int | None = None,
        seconds: float = DEFAULT_DOWNLOAD_SECONDS,
        fails: bool = False,
        **model: Any,
    ) -> None:
        """Offer model ``id`` for download: ``size_bytes`` (None: reckoned from the
        parameter count in its name), ``seconds`` of the fake's clock to download; ``model``
        takes ``add_model``'s other arguments (``context_length``, ``quantization``...)."""
        if size_bytes is not None and (
            not isinstance(size_bytes, int)
            or isinstance(size_bytes, bool)
            or not 0 < size_bytes <= MAX_SIZE_BYTES
        ):
            raise ScriptError(
                f"downloads.offer({id!r}): size_bytes must be a positive integer (at most "
                f"{MAX_SIZE_BYTES}), got {size_bytes!r}"
            )
        if not seconds_in_range(seconds, 0.0, MAX_SECONDS):
            raise ScriptError(
                f"downloads.offer({id!r}): seconds must be a number from 0 to {MAX_SECONDS:g}, "
                f"got {seconds!r}"
            )
        try:
            created = new_model(id, type, **{**model, "loaded": False})
        except (TypeError, ValueError) as exc:
            raise ScriptError(f"downloads.offer({id!r}): {exc}") from None
        created.size_bytes = size_bytes
        with self._engine.lock:
            self._engine.state.downloads.offer(Downloadable(created, float(seconds), bool(fails)))

    @property
    def offered(self) -> list[str]:
        """The ids of the models on offer."""
        with self._engine.lock:
            return list(self._engine.state.downloads.offered)

    @property
    def jobs(self) -> list[DownloadJob]:
        """The download jobs started since the last reset, oldest first."""
        with self._engine.lock:
            return list(self._engine.state.downloads.jobs.values())
