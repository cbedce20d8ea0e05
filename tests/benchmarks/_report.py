"""``docs/benchmarks.md`` and its charts, from what a run of ``run_all.py`` left in a folder.

A run leaves, in one folder, each benchmark's own JSON (``NAME.json``), its table
(``NAME.stdout``) and ``run.json``: the machine, and how each benchmark ended (status, time,
reason, its last lines of progress). ``run_all.py --keep DIR`` keeps that folder;
``run_all.py --from DIR`` writes the page again from it, without running anything.

The page: how it was made and on what machine, the targets table (met / MISSED), one section
per question with the ratio against the alternative measured in the same run, PNG charts in a
folder named after the page, and the runs themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _report_cold
import _report_plugin
import _report_server
from _report_page import Outcome, Page, table

#: The file of a run's folder that says how the run went.
RUN_FILE = "run.json"

#: The sections, in the page's order.
SECTIONS: tuple[Callable[[Page], list[str]], ...] = (
    _report_plugin.per_test,
    _report_server.throughput,
    _report_server.instructions,
    _report_server.streaming,
    _report_plugin.provider,
    _report_plugin.startup,
    _report_cold.cold_start,
    _report_server.timing,
    _report_plugin.scale,
    _report_server.memory,
    lambda page: printed(page, "request-cpu", "The fake's CPU time per request"),
    lambda page: printed(page, "structured", "Structured output against the plain answer"),
    lambda page: printed(page, "doors-responses", "/v1/responses against /v1/chat/completions"),
    lambda page: printed(page, "doors-messages", "/v1/messages against /v1/chat/completions"),
    lambda page: printed(
        page, "sdk", "respond() through LM Studio's Python SDK against the openai SDK"
    ),
)


def printed(page: Page, name: str, title: str) -> list[str]:
    """A benchmark's section as the script printed its table (when the run included it)."""
    outcome = page.outcomes.get(name)
    if outcome is None:
        return []
    lines = [f"## {title}", "", f"`{outcome.command}`: {outcome.status}", "", "```"]
    return [*lines, *(outcome.stdout_tail or ["(no output)"]), "```", ""]


def save_run(folder: Path, outcomes: dict[str, Outcome], machine: dict[str, Any]) -> None:
    """Write ``run.json`` beside the benchmarks' own JSON."""
    run = {"machine": machine, "benchmarks": [o.summary() for o in outcomes.values()]}
    (folder / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")


def load_run(folder: Path) -> tuple[dict[str, Outcome], dict[str, Any]]:
    """The outcomes (with their figures) and the machine of the run kept in ``folder``."""
    path = folder / RUN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: keep a run with run_all.py --keep DIR")
    run = json.loads(path.read_text(encoding="utf-8"))
    outcomes: dict[str, Outcome] = {}
    for entry in run["benchmarks"]:
        results = entry.pop("results")
        outcome = Outcome(**entry)
        if results:
            outcome.data = json.loads((folder / f"{outcome.name}.json").read_text())
        outcomes[outcome.name] = outcome
    return outcomes, run["machine"]


def render(outcomes: dict[str, Outcome], machine: dict[str, Any], out: Path) -> str:
    """The page's Markdown; its charts go to the folder named after ``out``."""
    page = Page(outcomes, out.parent / out.stem, f"{out.stem}/")
    sections: list[str] = []
    for section in SECTIONS:
        try:
            sections += section(page)
        except Exception as exc:  # one broken section must not lose the others
            sections += [f"(this section could not be written: {exc!r})", ""]
    head = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`tests/benchmarks/run_all.py`) on {machine['date']}, commit "
        f"{machine['commit']}, in {machine['wall_s']:.0f} s. Every figure on this page comes "
        "from that one run; each ratio compares two things measured side by side in it. Rerun "
        "on a quiet machine: other jobs sharing the CPUs move these figures more than most "
        "code changes. The scripts and how they measure: `tests/benchmarks/README.md`.",
        "",
        "## Machine",
        "",
    ]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    head += table(
        ["", ""],
        [
            ["CPU", f"{machine['cpu']} ({machine['cores']} cores)"],
            ["OS", machine["os"]],
            ["Python", machine["python"]],
            ["bytecode cache", machine["bytecode"]],
            ["packages", versions],
            [
                "load average (1 min)",
                f"{machine['load_before']:.2f} before, {machine['load_after']:.2f} after",
            ],
        ],
    )
    head += ["## Targets", ""]
    head += table(["question", "this run", "target", ""], page.targets)
    runs = [
        [
            o.name,
            o.command,
            f"{o.seconds:.0f} s",
            o.status + (f": {o.reason}" if o.reason else ""),
        ]
        for o in outcomes.values()
    ]
    tail = [
        "## The runs",
        "",
        *table(["benchmark", "command (plus --json)", "time", "status"], runs),
    ]
    if page.chart_note:
        tail += [page.chart_note, ""]
    return "\n".join(head + sections + tail).rstrip() + "\n"


def write(outcomes: dict[str, Outcome], machine: dict[str, Any], out: Path) -> None:
    """Write the page (and its charts)."""
    text = render(outcomes, machine, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
