"""``fake.chaos()``: random faults in a share of the requests no rule answers, seeded."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._rules import Fail, Fault

#: The faults ``chaos()`` picks from unless told otherwise.
CHAOS_FAULTS: tuple[str, ...] = (
    "drop", "reset_connection", "garbage", "malformed", "truncate", "delay", "429", "500", "503",
)  # fmt: skip
CHAOS_CHOICES: tuple[str, ...] = (*CHAOS_FAULTS, "hang", "slow_body")
CHAOS_DELAY_SECONDS = 0.2
#: How a journal note of an injected fault starts: ``chaos (seed=7): drop: ...``.
CHAOS_NOTE = "chaos (seed={seed})"

__all__ = ["CHAOS_CHOICES", "CHAOS_FAULTS", "Chaos", "check_chaos_faults"]


@dataclass
class Chaos:
    """With probability ``rate``, a request answered by default gets a random fault instead.
    Seeded, so a failing run can be replayed."""

    rate: float
    faults: tuple[str, ...]
    seed: int
    routes: tuple[str, ...]
    rng: random.Random = field(init=False)
    injected: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def describe(self) -> str:
        return (
            f"chaos rate={self.rate:g} seed={self.seed} faults={','.join(self.faults)} "
            f"injected={self.injected}"
        )

    def pick(self, route: str) -> tuple[Fail | None, Fault | None, float, str] | None:
        """None, or (a failing action, a fault, a delay, a note) for this request."""
        if route not in self.routes or self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.faults)
        self.injected += 1
        note = f"{CHAOS_NOTE.format(seed=self.seed)}: {kind}"
        if kind == "delay":
            return None, None, CHAOS_DELAY_SECONDS, f"{note} {CHAOS_DELAY_SECONDS:g} s"
        if kind.isdigit():
            status = int(kind)
            retry = 1.0 if status in (429, 503) else None
            return Fail(status, f"chaos: HTTP {status}", retry), None, 0.0, note
        if kind == "truncate":
            return None, Fault("truncate", after_bytes=self.rng.randint(1, 48)), 0.0, note
        if kind == "slow_body":
            return None, Fault("slow_body", bytes_per_second=2000.0), 0.0, note
        return None, Fault(kind), 0.0, note  # type: ignore[arg-type]


def check_chaos_faults(faults: Sequence[str] | None) -> tuple[str, ...]:
    if faults is None:
        return CHAOS_FAULTS
    chosen = tuple(faults)
    unknown = [f for f in chosen if f not in CHAOS_CHOICES]
    if unknown or not chosen:
        raise ValueError(
            f"chaos faults must be a non-empty list from {', '.join(CHAOS_CHOICES)}; "
            f"got {list(chosen)!r}"
        )
    return chosen
