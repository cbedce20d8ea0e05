"""The ``lmstudio`` marker's checks: its keywords (an unknown one gets a "did you mean"), and
a marker on a test that never used the fake (it configures nothing, so it is a mistake)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import pytest

#: The keywords ``@pytest.mark.lmstudio(...)`` takes.
MARKER_KEYWORDS = ("models", "scenario", "seed", "profile", "strict")
UNUSED_MARKER = (
    "@pytest.mark.lmstudio on {nodeid} configures nothing: the test never used the fake "
    "(the marker sets up the lmstudio_fake fixture, and the fixtures built on it: "
    "lmstudio_fake_url, lmstudio_provider, lmstudio_sync_provider, lmstudio_env). Request "
    "one of them, or remove the marker."
)

__all__ = ["MARKER_KEYWORDS", "LMStudioMarkerWarning", "marker_kwargs", "unused_marker"]


class LMStudioMarkerWarning(pytest.PytestWarning):
    """An ``lmstudio`` marker that has no effect (on a test that never uses the fake)."""


# Shown (and filtered with -W) under the module users import it from.
LMStudioMarkerWarning.__module__ = "pytest_lmstudio.plugin"


def _did_you_mean(unknown: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(unknown, list(known), n=1, cutoff=0.6)
    return f"{unknown} (did you mean {close[0]}?)" if close else unknown


def marker_kwargs(node: pytest.Item) -> dict[str, Any]:
    """The ``lmstudio`` marker's keywords, closest marker first (test over class over module)."""
    merged: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("lmstudio"))):
        if marker.args:
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.lmstudio takes keywords only "
                f"({', '.join(MARKER_KEYWORDS)}); got positional {marker.args!r}"
            )
        unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
        if unknown:
            named = ", ".join(_did_you_mean(name, MARKER_KEYWORDS) for name in unknown)
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.lmstudio got unknown keyword(s) {named}; "
                f"it takes {', '.join(MARKER_KEYWORDS)}"
            )
        merged.update(marker.kwargs)
    return merged


def unused_marker(item: pytest.Item, used_the_fake: bool) -> LMStudioMarkerWarning | None:
    """The warning for an ``lmstudio`` marker on the test function itself when the test ran
    without using the fake. A marker on a class or module configures whichever of its tests
    use the fake, so it is not one test's mistake."""
    if used_the_fake or not any(m.name == "lmstudio" for m in item.own_markers):
        return None
    return LMStudioMarkerWarning(UNUSED_MARKER.format(nodeid=item.nodeid))
