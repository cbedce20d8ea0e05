"""Profiles: the switches that select a wire shape, one table for every door.

``lmstudio`` (the default) is LM Studio 0.4 as it answers; ``openai`` is the strict official
OpenAI format. Each door's dialect reads these switches; the shapes themselves live in the
dialects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProfileName = Literal["lmstudio", "openai"]
PROFILE_NAMES: tuple[str, ...] = ("lmstudio", "openai")

#: The version ``/lms-status`` reports.
LMSTUDIO_VERSION = "0.4.21"

__all__ = ["LMSTUDIO_VERSION", "PROFILES", "PROFILE_NAMES", "Profile", "ProfileName"]


@dataclass(frozen=True)
class Profile:
    """One set of wire switches. ``strict_openai`` selects the official OpenAI format."""

    name: ProfileName
    strict_openai: bool


PROFILES: dict[str, Profile] = {
    "lmstudio": Profile("lmstudio", strict_openai=False),
    "openai": Profile("openai", strict_openai=True),
}
