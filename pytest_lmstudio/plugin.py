"""The pytest plugin (fixtures and options); wiring only."""

from __future__ import annotations
