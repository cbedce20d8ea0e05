"""The fake's settings as methods: seed, profile, JIT, LM Studio's switches, chaos, the token.

``FakeLMStudio`` inherits them; they live here so that the facade's own module holds its
lifecycle, catalog, rules and journal and stays a size one can read.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ._errors import ScriptError
from ._settings import check_profile, check_reasoning_format, check_seed, check_token, new_chaos
from .engine import Engine, State

__all__ = ["FakeSettings"]


class FakeSettings:
    """Reading and changing the settings of a running fake, from the test's thread."""

    _engine: Engine
    _lock: threading.RLock

    @property
    def _state(self) -> State:
        """The current state (a request keeps the one it started with)."""
        return self._engine.state

    @property
    def seed(self) -> int:
        return self._state.seed

    def set_seed(self, seed: int) -> None:
        """Seed of the default answers: same seed and request, same answer."""
        with self._lock:
            self._state.seed = check_seed(seed)

    @property
    def profile(self) -> str:
        return self._state.profile.name

    def set_profile(self, profile: str) -> None:
        """``"lmstudio"`` (LM Studio's own shapes) or ``"openai"`` (the strict OpenAI format)."""
        with self._lock:
            self._state.profile = check_profile(profile)

    @property
    def jit(self) -> bool:
        return self._state.jit

    def set_jit(self, enabled: bool) -> None:
        """JIT loading on (default: unloaded models load on request and are listed) or off
        (only loaded models are listed and served)."""
        with self._lock:
            self._state.jit = bool(enabled)

    def set_single_loaded_fallback(self, enabled: bool) -> None:
        """LM Studio's bug #619: with exactly one model loaded, a request naming any other
        model is answered by the loaded one (off by default)."""
        with self._lock:
            self._state.single_loaded_fallback = bool(enabled)

    def set_auto_evict(self, enabled: bool) -> None:
        """LM Studio's "Only Keep Last JIT Loaded Model" (on by default): a JIT load unloads
        the previously JIT-loaded model. Off: JIT-loaded models stay until their TTL."""
        with self._lock:
            self._state.auto_evict = bool(enabled)

    def set_reasoning_format(self, reasoning_format: str | None) -> None:
        """Where a reasoning model's reasoning goes, as LM Studio's settings put it:
        ``"reasoning"`` (a separate field, 0.3.23+), ``"reasoning_content"`` (the separate
        field of the 0.3.9 setting) or ``"think"`` (``<think>...</think>`` inside the
        content); None: the profile's."""
        reasoning_format = check_reasoning_format(reasoning_format)
        with self._lock:
            self._state.reasoning_format = reasoning_format

    def set_validation(self, enabled: bool) -> None:
        """Check requests and answers against ``schemas/`` (on by default)."""
        with self._lock:
            self._state.validate = bool(enabled)

    def set_while_loading(self, behaviour: str) -> None:
        """What a request for a model that is still loading gets: ``"wait"`` (LM Studio's
        JIT: the request blocks until the model is loaded) or ``"503"`` (a 503 with
        ``Retry-After``, the seconds left, while the load goes on in the background)."""
        if behaviour not in ("wait", "503"):
            raise ScriptError(f"set_while_loading() takes 'wait' or '503', got {behaviour!r}")
        with self._lock:
            self._state.while_loading = behaviour

    def chaos(
        self,
        rate: float,
        faults: Sequence[str] | None = None,
        *,
        seed: int = 0,
        routes: Sequence[str] = ("chat", "completions", "embeddings", "models"),
    ) -> None:
        """Inject a random fault into a ``rate`` share of the requests that no rule answers.

        ``faults`` picks from ``drop``, ``reset_connection``, ``garbage``, ``malformed``,
        ``truncate``, ``delay`` and the statuses ``429``, ``500``, ``503`` (the default set),
        plus ``hang`` and ``slow_body``. The choices follow ``seed``, so a failing run replays
        exactly; ``chaos(0)`` turns it off. The journal marks each injected fault.
        """
        chosen = new_chaos(rate, faults, seed, routes)
        with self._lock:
            self._state.chaos = chosen

    def chaos_report(self) -> str | None:
        """The active chaos settings and how many faults it injected, or None."""
        chaos = self._state.chaos
        return None if chaos is None else chaos.describe()

    def require_api_token(self, token: str | None) -> None:
        """Answer 401 (LM Studio's body) unless ``Authorization: Bearer <token>``; None: off."""
        with self._lock:
            self._state.api_token = check_token(token)

    @property
    def api_token(self) -> str | None:
        return self._state.api_token
