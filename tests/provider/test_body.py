"""``BodyDecoder``: bodies decompressed a step at a time, and held to their limit."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest

from pytest_lmstudio import ApiError
from pytest_lmstudio.provider._body import STEP, BodyDecoder

DATA = bytes(range(256)) * 4000  # 1 MB that compresses well


def decoder(limit: int, encoding: str) -> BodyDecoder:
    return BodyDecoder(
        limit,
        encoding,
        too_large=lambda: ApiError("too large"),
        bad=lambda detail: ApiError(detail),
    )


def decode(body: bytes, limit: int, encoding: str, read: int = 65536) -> list[bytes]:
    pieces = []
    d = decoder(limit, encoding)
    for start in range(0, len(body), read):
        pieces += d.feed(body[start : start + read])
    return pieces + d.flush()


ENCODED = [
    ("", DATA),
    ("identity", DATA),
    ("gzip", gzip.compress(DATA)),
    ("x-gzip", gzip.compress(DATA)),
    ("deflate", zlib.compress(DATA)),
    ("deflate", zlib.compress(DATA)[2:-4]),  # raw deflate, as some servers send it
    ("gzip, deflate", zlib.compress(gzip.compress(DATA))),
]


@pytest.mark.parametrize(("encoding", "body"), ENCODED)
@pytest.mark.parametrize("read", [7, 4096, 65536])
def test_bodies_decode_in_bounded_pieces(encoding: str, body: bytes, read: int) -> None:
    pieces = decode(body, len(DATA), encoding, read)
    assert b"".join(pieces) == DATA
    assert max(len(piece) for piece in pieces) <= max(STEP, read)


@pytest.mark.parametrize(("encoding", "body"), ENCODED)
def test_one_byte_over_the_limit_is_refused(encoding: str, body: bytes) -> None:
    with pytest.raises(ApiError, match="too large"):
        decode(body, len(DATA) - 1, encoding)


class Spy:
    """A zlib decompressor that records the size of everything it makes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.made: list[int] = []

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        out: bytes = self.inner.decompress(data, max_length)
        self.made.append(len(out))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_bomb_stops_one_step_past_the_limit() -> None:
    limit = 1024 * 1024
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))  # 64 MiB in some 64 KiB
    d = decoder(limit, "gzip")
    spy = Spy(d._layers[0]._zlib)
    d._layers[0]._zlib = spy
    with pytest.raises(ApiError, match="too large"):
        d.feed(bomb[:65536])
    # One read inflated a step at a time, and no further than a step past the limit (httpx
    # inflates all it can of a read at once: some 64 MiB here).
    assert max(spy.made) <= STEP
    assert limit < sum(spy.made) <= limit + STEP


def test_unasked_or_broken_encodings_are_api_errors() -> None:
    with pytest.raises(ApiError, match="'br' is not one the provider asked for"):
        decoder(100, "br")
    with pytest.raises(ApiError, match="compressed body is broken") as info:
        decoder(100, "gzip").feed(b"not gzip at all")
    assert isinstance(info.value.__cause__, zlib.error)
