"""Answer bodies as they arrive: decompressed here, and counted against ``max_response_bytes``.

httpx would inflate each read whole before anyone could count it: a gzip bomb's 64 KiB read
becomes some 64 MiB at once. So the providers read the raw bytes (``aiter_raw``) and
``BodyDecoder`` inflates them with zlib's ``max_length``, a step of at most 256 KiB at a time,
counting: it stops one step past the room the limit leaves, so memory stays near the limit,
however well the body compresses. The limit holds for the whole body, and for a stream, for
all of it. No I/O here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from ._errors import ApiError

__all__ = ["ACCEPT_ENCODING", "BodyDecoder"]

#: What the providers ask for (httpx would also offer br and zstd when their packages are
#: installed; those are decoded without a bound on their output, so they are not asked for).
ACCEPT_ENCODING = "gzip, deflate"


#: The most one step of inflating makes: memory for a body is its limit and about this much.
STEP = 256 * 1024


class _Inflate:
    """One gzip or deflate layer."""

    def __init__(self, coding: str) -> None:
        self._first = coding == "deflate"
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._first else zlib.MAX_WBITS | 16)

    def inflate(self, data: bytes, budget: int) -> list[bytes]:
        """What ``data`` inflates to, in pieces of at most ``STEP`` bytes; past ``budget`` bytes
        in all, inflating stops (having made at most ``STEP`` more), input left unread."""
        first, self._first = self._first, False
        try:
            return self._steps(data, budget)
        except zlib.error:
            if not first:
                raise
            # "deflate" should be zlib-wrapped, but some servers send it raw (httpx takes both).
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._steps(data, budget)

    def _steps(self, data: bytes, budget: int) -> list[bytes]:
        pieces = []
        total = 0
        while total <= budget:
            want = min(STEP, budget + 1 - total)
            piece = self._zlib.decompress(data, want)
            data = self._zlib.unconsumed_tail
            if piece:
                pieces.append(piece)
                total += len(piece)
            if len(piece) < want:  # all of the input inflated, and no output held back
                break
        return pieces

    def flush(self) -> bytes:
        # Inflating stops short of its input only past the budget, and reading stops then:
        # what is left here is zlib's last few bytes, not a bomb's rest.
        return self._zlib.flush()


class BodyDecoder:
    """Raw body bytes in, decoded bytes out, ``limit`` bytes at most in all.

    ``content_encoding`` is the answer's header: identity, gzip, x-gzip or deflate, or several
    of them (applied in that order, undone in reverse). Past the limit, ``feed`` raises what
    ``too_large()`` makes; bytes that do not inflate raise what ``bad(detail)`` makes.
    """

    def __init__(
        self,
        limit: int,
        content_encoding: str,
        *,
        too_large: Callable[[], ApiError],
        bad: Callable[[str], ApiError],
    ) -> None:
        self.limit = limit
        self.size = 0
        self._too_large = too_large
        self._bad = bad
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise bad(f"its Content-Encoding {coding[:40]!r} is not one the provider asked for")
        self._layers = [_Inflate(coding) for coding in reversed(codings)]

    def feed(self, raw: bytes) -> list[bytes]:
        """The decoded bytes ``raw`` stands for, in pieces (maybe none yet)."""
        return self._decode([raw] if raw else [], final=False)

    def flush(self) -> list[bytes]:
        """What the layers still hold, at the end of the body."""
        return self._decode([], final=True)

    def _decode(self, pieces: list[bytes], *, final: bool) -> list[bytes]:
        last = len(self._layers) - 1
        try:
            for number, layer in enumerate(self._layers):
                # The last layer makes the body: it may fill the room left. A layer under it
                # makes compressed bytes, held to the whole limit at a time.
                budget = self.limit - self.size if number == last else self.limit
                out: list[bytes] = []
                for piece in pieces:
                    out += layer.inflate(piece, budget - _size(out))
                    if _size(out) > budget:
                        raise self._too_large()
                if final:
                    out.append(layer.flush())
                pieces = out
        except zlib.error as exc:
            raise self._bad(f"its compressed body is broken ({exc})") from exc
        self.size += _size(pieces)
        if self.size > self.limit:
            raise self._too_large()
        return [piece for piece in pieces if piece]


def _size(pieces: list[bytes]) -> int:
    return sum(len(piece) for piece in pieces)
