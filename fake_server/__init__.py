"""A fake LM Studio server for tests."""

from __future__ import annotations

__all__: list[str] = []
