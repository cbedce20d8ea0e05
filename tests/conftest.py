"""Plugins for the whole suite. ``pytest_plugins`` is only allowed in a top-level conftest."""

from __future__ import annotations

# pytester runs the plugin's tests (tests/plugin) in projects made in a temporary folder.
pytest_plugins = ["pytester"]
