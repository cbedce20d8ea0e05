"""The building blocks of ``docs/benchmarks.md``: what a benchmark run left (``Outcome``), and the
page its sections write to (``Page``: the targets table, the charts, the lines for a benchmark
that gave no figures), with the small formatting helpers they share.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _harness import log


@dataclass
class Outcome:
    """One benchmark of a run: how it ended and, read from its JSON, its figures."""

    name: str
    #: The script and its arguments (``--json FILE`` left out).
    command: str
    status: str  # "ok", "missed", "failed", "skipped"
    seconds: float = 0.0
    exit_code: int | None = None
    data: dict[str, Any] | None = None
    reason: str = ""
    stderr_tail: list[str] = field(default_factory=list)
    #: The table the script printed (its last lines of output), for sections that quote it.
    stdout_tail: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """All but the figures (they stay in the benchmark's own JSON), and whether there are
        any."""
        out = asdict(self)
        out["results"] = out.pop("data") is not None
        return out


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def paired(now: list[float], then: list[float]) -> tuple[float, float]:
    """Two subjects measured in the same rounds: the median of the rounds' ratios now/then,
    and how far ``now``'s own rounds moved (their range over their median)."""
    ratio = statistics.median(a / b for a, b in zip(now, then, strict=True))
    return ratio, (max(now) - min(now)) / statistics.median(now)


def spread(values: list[float]) -> str:
    """A few runs one by one; many as their count and range."""
    if len(values) <= 7:
        return ", ".join(f"{v:.3f}" for v in values)
    return f"{len(values)} runs, {min(values):.3f} to {max(values):.3f}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


class Page:
    """What the sections share while the page is written: the outcomes they report on, the
    targets table they fill, and the charts they draw (PNG files beside the page)."""

    def __init__(self, outcomes: dict[str, Outcome], charts_dir: Path, link_prefix: str) -> None:
        self.outcomes = outcomes
        self.charts_dir = charts_dir
        self.link_prefix = link_prefix
        self.targets: list[list[str]] = []
        self.charts: list[str] = []
        self.chart_note = ""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            self.plt: Any = plt
        except ImportError:
            self.plt = None
            self.chart_note = (
                "Charts skipped: matplotlib is not installed (`pip install -e '.[bench]'`)."
            )

    def data(self, name: str) -> dict[str, Any]:
        """The figures of benchmark ``name`` (empty when it gave none)."""
        outcome = self.outcomes.get(name)
        return (outcome.data or {}) if outcome is not None else {}

    def target(self, question: str, figure: str, target: str, ok: bool | None) -> str:
        shown = "no figure" if ok is None else verdict(ok)
        self.targets.append([question, figure, target, shown])
        return shown

    def chart(self, name: str, alt: str, draw: Callable[[Any, Any], None]) -> list[str]:
        if self.plt is None:
            return []
        try:
            figure, axes = self.plt.subplots(figsize=(7, 3.6), dpi=100)
            draw(figure, axes)
            axes.grid(axis="y", alpha=0.3)
            figure.tight_layout()
            self.charts_dir.mkdir(parents=True, exist_ok=True)
            path = self.charts_dir / f"{name}.png"
            figure.savefig(path)
            self.plt.close(figure)
        except Exception as exc:  # a chart must not cost the report
            log(f"chart {name}: {exc!r}")
            return [f"(chart {name} could not be drawn: {exc})", ""]
        self.charts.append(str(path))
        return [f"![{alt}]({self.link_prefix}{name}.png)", ""]

    def failed(self, *names: str) -> list[str]:
        """Lines saying which of ``names`` gave no figures and why (empty when all did)."""
        lines: list[str] = []
        for name in names:
            outcome = self.outcomes.get(name)
            if outcome is None:
                lines += [f"Not run (`--only` left out `{name}`).", ""]
            elif outcome.data is None:
                word = "skipped" if outcome.status == "skipped" else "failed"
                lines += [f"**{name} {word}**: {outcome.reason}.", ""]
                detail = [line for line in outcome.stderr_tail if line.strip()][-12:]
                if detail:
                    lines += ["Its last lines:", "", "```", *detail, "```", ""]
        return lines

    def state(self, *names: str) -> str:
        """What the targets table says for a benchmark without figures."""
        for name in names:
            outcome = self.outcomes.get(name)
            if outcome is not None:
                return outcome.status if outcome.data is None else "not measured"
        return "not run"

    def flagged(self, name: str) -> list[str]:
        outcome = self.outcomes.get(name)
        if outcome is not None and outcome.data is not None and outcome.status == "failed":
            return [f"Note: {outcome.reason}.", ""]
        return []
