"""The cold-start section of ``docs/benchmarks.md``: a fresh process's import, start and first
answer of the fake beside pytest-httpserver's and respx's, and the fake as it was before the
cold-start work, all from the same rounds of ``bench_cold_start.py``."""

from __future__ import annotations

from _harness import COLD_START_S
from _report_page import Page, table

TARGET = f"<= {COLD_START_S * 1000:.0f} ms"
SUBJECTS = {
    "fake": "the fake: `import fake_server`, `FakeLMStudio().start()`, a default chat answer",
    "baseline": "the fake before the cold-start work (commit {commit}), the same steps",
    "httpserver": "pytest-httpserver: import, `HTTPServer().start()`, one expected request",
    "respx": "respx: `import respx, httpx`, a mocked route, `httpx.Client().post()` (no socket)",
    "aiohttp": "`import aiohttp.web` alone: the floor under any aiohttp server, the fake's too",
}


def cold_start(page: Page) -> list[str]:
    lines = ["## Cold start: import, start and the first answer in a fresh process", ""]
    gone = page.failed("cold-start")
    data = page.data("cold-start")
    if gone or not data.get("subjects"):
        page.target("cold start (fake)", page.state("cold-start"), TARGET, None)
        return lines + (gone or ["Not measured."])
    subjects = data["subjects"]
    lines += [
        "What every fresh process (each xdist worker, each CI job) pays before its first answer. "
        f"Each subject runs {data['rounds']} times in a fresh interpreter, in rotated order, "
        "and times itself from its first line; the medians. The servers answer over a real "
        "socket on 127.0.0.1 (the client, `http.client`, is imported before the clock starts); "
        "respx answers in process. CPU is the process's (all threads) to the first answer, "
        f"which a busy machine moves less than wall time. `python -c pass` took "
        f"{data['interpreter_s'] * 1000:.0f} ms, apart from these figures.",
        "",
    ]
    rows = []
    for name, what in SUBJECTS.items():
        figures = subjects.get(name)
        if figures is None:
            continue
        rows.append(
            [
                what.format(commit=data.get("baseline", "?")),
                *(f"{figures[p] * 1000:.0f}" for p in ("import_s", "start_s", "first_s")),
                f"**{figures['total_s'] * 1000:.0f}**",
                f"{figures['cpu_s'] * 1000:.0f}",
            ]
        )
    lines += table(
        ["subject", "import ms", "start ms", "first answer ms", "total ms", "CPU ms"], rows
    )
    fake = subjects["fake"]["total_s"]
    ratios = [
        f"The fake's cold start is {data['vs_httpserver']:.2f}x pytest-httpserver's and "
        f"{data['vs_respx']:.2f}x respx's"
    ]
    if "vs_baseline" in data:
        before = subjects["baseline"]["total_s"]
        ratios.append(
            f"before the cold-start work it was {before * 1000:.0f} ms "
            f"({before / subjects['httpserver']['total_s']:.2f}x pytest-httpserver's), now "
            f"{fake * 1000:.0f} ms: {data['vs_baseline']:.2f}x the time before"
        )
    lines += ["; ".join(ratios) + ".", ""]
    shown = page.target("cold start (fake)", f"{fake * 1000:.0f} ms", TARGET, data["met"])
    lines += [f"Target {TARGET}: {shown}.", ""]
    return lines
