"""pytest-lmstudio: a typed LM Studio client, a faithful fake server, and a pytest plugin."""

from __future__ import annotations

__all__: list[str] = []
