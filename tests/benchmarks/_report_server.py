"""The report's sections on the fake server: throughput against bare aiohttp, streaming
against a bare aiohttp SSE handler, timing accuracy, and memory (open streams, the journal).

Each section is a function of the page that returns its Markdown lines, records its targets on
the page and draws its chart; a benchmark that gave no figures gets a section that says why.
"""

from __future__ import annotations

from typing import Any

from _harness import (
    LATENCY_ERROR,
    MEMORY_MIB,
    STREAM_DURATION_ERROR,
    STREAMING_VS_BARE,
    THROUGHPUT_VS_BARE,
)
from _report_page import Page, paired, table

THROUGHPUT = f">= {THROUGHPUT_VS_BARE:g}x"
STREAMING = f">= {STREAMING_VS_BARE:g}x"
LATENCY = f"<= {LATENCY_ERROR * 1000:g} ms"
DURATION = f"<= {STREAM_DURATION_ERROR * 100:g} %"
MEMORY = f"< {MEMORY_MIB:g} MiB"


def _against_before(before: str, levels: list[str], results: dict[str, Any]) -> list[str]:
    """The fake against itself at ``before`` (the last commit before its split into engine,
    doors and HTTP shell): the ratio of each round's two measurements, taken one after the
    other, then their median; beside it how far the fake's own rounds moved."""
    quoted = []
    for level in levels:
        now = [r["rps"] for r in results[level]["fake-on"]["runs"]]
        then = [r["rps"] for r in results[level]["fake-before"]["runs"]]
        ratio, moved = paired(now, then)
        quoted.append(f"c={level} {ratio:.2f}x (its rounds {moved:.0%} apart)")
    return [
        f"Against itself before the split into engine, doors and HTTP shell (the fake at commit "
        f"{before}, `--before {before}`, validation on, measured right after the checkout's "
        f"fake in each round), the median of the rounds' ratios: {', '.join(quoted)}. With "
        "rounds this far apart a few percent either way is noise, so whether the split costs "
        "anything is judged on instructions, which do not move: the next section.",
        "",
    ]


def throughput(page: Page) -> list[str]:
    lines = ["## Server throughput: non-streaming chat completions", ""]
    gone = page.failed("throughput")
    if gone:
        page.target(
            "throughput, validation on / bare aiohttp",
            page.state("throughput"),
            THROUGHPUT,
            None,
        )
        return lines + gone
    data = page.data("throughput")
    results = data["results"]
    levels = list(results)
    lines += [
        f"`POST /v1/chat/completions` ({data['request_bytes']}-byte request, "
        f"{data['answer_bytes']['fake-on']}-byte answer) on keep-alive connections; "
        f"load generator {data['generator_detail']}; each server in its own process"
        + (" pinned to CPU 1, the load on CPU 0" if data.get("pinned") else "")
        + f"; {data['rounds']} interleaved rounds x {data['seconds']:g} s, median "
        "[lowest-highest]. The bare aiohttp handler reads the body and answers a fixed body "
        "of the fake's answer size: the ceiling for this stack.",
        "",
    ]
    before = data.get("before_commit")
    kinds = ("fake-on", "fake-off", *(("fake-before",) if before else ()), "bare")
    rows = []
    for level in levels:
        cell = results[level]
        row = [level]
        for kind in kinds:
            rps = [r["rps"] for r in cell[kind]["runs"]]
            row.append(f"{cell[kind]['median_rps']:,.0f} [{min(rps):,.0f}-{max(rps):,.0f}]")
        row += [f"{cell['ratio_on']:.2f}x", f"{cell['ratio_off']:.2f}x"]
        if before:
            row += [f"{cell['ratio_before']:.2f}x", f"{cell['ratio_on_to_before']:.2f}x"]
        rows.append(row)
    lines += table(
        [
            "concurrency",
            "fake, validation on (req/s)",
            "fake, validation off",
            *([f"fake at {before}, validation on"] if before else []),
            "bare aiohttp",
            "on / bare",
            "off / bare",
            *([f"{before} / bare", f"on / {before}"] if before else []),
        ],
        rows,
    )
    worst = min(results[level]["ratio_on"] for level in levels)
    shown = page.target(
        "throughput, validation on / bare aiohttp (lowest concurrency level)",
        f"{worst:.2f}x",
        THROUGHPUT + " at every concurrency",
        worst >= THROUGHPUT_VS_BARE,
    )
    lines += [
        f"Target: validation on at least {THROUGHPUT_VS_BARE:g}x bare at every concurrency: "
        f"{shown} "
        f"(lowest {worst:.2f}x).",
        "",
    ]
    if before:
        lines += _against_before(before, levels, results)
    lines += page.flagged("throughput")

    def draw(figure: Any, axes: Any) -> None:
        width = 0.27
        colors = {"fake-on": "#d95f02", "fake-off": "#fdb863", "bare": "#7570b3"}
        labels = {
            "fake-on": "fake, validation on",
            "fake-off": "validation off",
            "bare": "bare aiohttp",
        }
        for i, kind in enumerate(("fake-on", "fake-off", "bare")):
            xs = [j + (i - 1) * width for j in range(len(levels))]
            ys = [results[level][kind]["median_rps"] for level in levels]
            axes.bar(xs, ys, width, label=labels[kind], color=colors[kind])
        axes.set_xticks(range(len(levels)), [f"c={level}" for level in levels])
        axes.set_ylabel("requests/s (median)")
        axes.set_title("Non-streaming chat completions")
        axes.legend(fontsize=8)

    return lines + page.chart("throughput", "throughput chart", draw)


def streaming(page: Page) -> list[str]:
    lines = ["## Streaming: chunks per second of a 1,000-chunk stream", ""]
    gone = page.failed("streaming")
    if gone:
        page.target("streaming / bare aiohttp SSE", page.state("streaming"), STREAMING, None)
        return lines + gone
    data = page.data("streaming")
    results = data["results"]
    lines += [
        f"`fake.chat.stream([{data['chunks']:,} pieces])` with no scripted delay against a "
        f"bare aiohttp handler writing the same {data['frames_per_stream']:,} pre-built "
        f"frames ({data['stream_bytes']:,} bytes, one `write()` each); each server in its own "
        "process"
        + (" on CPU 1" if data.get("pinned") else "")
        + "; the same raw asyncio client for both (one connection per stream, the chunked "
        f"body decoded, `data:` frames counted); {data['rounds']} interleaved rounds of "
        f"{data['streams']} streams, median.",
        "",
    ]
    rows = [
        [
            level,
            f"{cell['fake']['median_chunks_per_s']:,.0f}",
            f"{cell['bare']['median_chunks_per_s']:,.0f}",
            f"{cell['ratio']:.2f}x",
        ]
        for level, cell in results.items()
    ]
    lines += table(
        ["streams at once", "fake (chunks/s)", "bare aiohttp (chunks/s)", "fake / bare"], rows
    )
    worst = min(cell["ratio"] for cell in results.values())
    shown = page.target(
        "streaming chunks/s / bare aiohttp SSE (lowest)",
        f"{worst:.2f}x",
        STREAMING,
        worst >= STREAMING_VS_BARE,
    )
    lines += [
        f"Target: at least {STREAMING_VS_BARE:g}x bare aiohttp: {shown} (lowest {worst:.2f}x).",
        "",
    ]
    return lines


def timing(page: Page) -> list[str]:
    lines = ["## Timing accuracy: scripted latency and stream intervals", ""]
    gone = page.failed("timing")
    if gone:
        page.target("scripted latency, median error", page.state("timing"), LATENCY, None)
        return lines + gone
    data = page.data("timing")
    latency = data["latency"]
    stream = data["stream"]
    pairs = len(latency["plain"])

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    runs = stream["runs"]
    lines += [
        f"The fake in {data['where']}, an httpx client. Latency: {pairs} pairs of the same "
        "answer with and without `delay=0.05`, order alternating; the error is the delayed "
        "latency minus its twin's minus 50 ms. Stream: 100 chunks every 10 ms "
        f"(scripted first to last: {stream['scripted'] * 1000:.0f} ms), {len(runs)} runs.",
        "",
    ]
    durations = [r["duration"] * 1000 for r in runs]
    rows = [
        ["latency without delay (median)", f"{median(latency['plain']) * 1000:.2f} ms"],
        ["latency with delay=0.05 (median)", f"{median(latency['delayed']) * 1000:.2f} ms"],
        ["error, median", f"{latency['median_error'] * 1000:+.2f} ms"],
        ["error, p99", f"{latency['p99_error'] * 1000:+.2f} ms"],
        [
            "stream first to last chunk, per run",
            ", ".join(f"{d:.1f}" for d in durations) + " ms",
        ],
        ["stream duration error, worst", f"{stream['worst_duration_error'] * 100:.2f} %"],
        [
            "worst chunk lateness, per run",
            ", ".join(f"{r['worst_lateness'] * 1000:.2f}" for r in runs) + " ms",
        ],
        [
            "100 chunks with no interval, request to last chunk (median)",
            f"{median([b['total'] for b in stream['bursts']]) * 1000:.2f} ms",
        ],
    ]
    lines += table(["measure", "figure"], rows)
    a = page.target(
        "scripted latency, median error",
        f"{latency['median_error'] * 1000:+.2f} ms",
        LATENCY,
        abs(latency["median_error"]) <= LATENCY_ERROR,
    )
    b = page.target(
        "stream of 100 x 10 ms, duration error (worst run)",
        f"{stream['worst_duration_error'] * 100:.2f} %",
        DURATION,
        stream["worst_duration_error"] <= STREAM_DURATION_ERROR,
    )
    lines += [
        f"Targets: latency median error at most {LATENCY_ERROR * 1000:g} ms: {a}; every stream "
        f"within {STREAM_DURATION_ERROR * 100:g} % of its scripted duration: {b}.",
        "",
    ]
    return lines


def memory(page: Page) -> list[str]:
    lines = ["## Memory: 1,000 open streams, and the journal after 100,000 requests", ""]
    gone = page.failed("memory")
    if gone:
        page.target("RSS with 1,000 open streams", page.state("memory"), MEMORY, None)
        return lines + gone
    data = page.data("memory")
    streams = data.get("streams")
    journal = data.get("journal")
    lines += [
        "The fake in its own process (validation on); its resident memory is `VmRSS` from "
        "`/proc/PID/status`.",
        "",
    ]
    if streams:
        lines += [
            f"**Open streams.** `fake.chat.when(stream=True).stream([...], stall_after=1)`; a "
            f"raw asyncio client opens {streams['streams']:,} streamed requests (in batches "
            "of 50) and waits for each one's first frame, so all are held open by the fake "
            "at once; then `reset()` releases them.",
            "",
        ]
        rows = [
            ["before (after a warm-up)", f"{streams['rss_before_mib']:.1f} MiB", ""],
            [
                f"{streams['streams']:,} streams open",
                f"{streams['rss_open_mib']:.1f} MiB",
                f"+{streams['per_stream_kib']:.1f} KiB per stream; the fake held "
                f"{streams['fake_connections_open']:,} connections; opened in "
                f"{streams['seconds_to_open']:.2f} s",
            ],
            [
                "released by `reset()`",
                f"{streams['rss_after_release_mib']:.1f} MiB",
                f"{streams['fake_connections_after_release']} connections left; peak "
                f"{streams['peak_mib']:.1f} MiB (freed memory stays with the process)",
            ],
        ]
        lines += table(["state", "RSS", "note"], rows)
        shown = page.target(
            f"RSS of the fake with {streams['streams']:,} open streams",
            f"{streams['rss_open_mib']:.1f} MiB",
            MEMORY,
            streams["rss_open_mib"] < MEMORY_MIB,
        )
        lines += [f"Target: under {MEMORY_MIB:g} MiB with 1,000 streams open: {shown}.", ""]
    if journal:
        lines += [
            f"**Journal.** {journal['requests']:,} non-streaming chat completions (default "
            "answers, 16 keep-alive connections). Policy: the journal keeps the most recent "
            f"{journal['journal_limit']:,} requests (`DEFAULT_JOURNAL_LIMIT`; "
            "`FakeLMStudio(journal_limit=N)` changes it), counts the ones it let go in "
            "`fake.journal.dropped`, and `reset()` (every test, under the plugin) empties "
            "it; so a long CI run cannot grow it without limit.",
            "",
        ]
        rows = [
            [
                f"{row['requests']:,}",
                f"{row['rss_mib']:.1f} MiB",
                f"{row['journal_entries']:,}",
                f"{row['journal_dropped']:,}",
            ]
            for row in journal["checkpoints"]
        ]
        rows.append(["then `reset()`", f"{journal['rss_after_reset_mib']:.1f} MiB", "0", "0"])
        lines += table(["requests", "RSS", "journal keeps", "dropped"], rows)
        full = next(
            (r for r in journal["checkpoints"] if r["journal_entries"] >= journal["journal_limit"]),
            None,
        )
        if full is not None:
            growth = journal["rss_after_mib"] - full["rss_mib"]
            per_entry = (full["rss_mib"] - journal["rss_before_mib"]) * 1024 / full["requests"]
            lines += [
                f"A full journal costs about {per_entry:.1f} KiB per kept request "
                f"({full['rss_mib'] - journal['rss_before_mib']:.1f} MiB for "
                f"{full['requests']:,}); from {full['requests']:,} to "
                f"{journal['requests']:,} requests RSS moved {growth:+.1f} MiB.",
                "",
            ]

        def draw(figure: Any, axes: Any) -> None:
            points = journal["checkpoints"]
            axes.plot(
                [p["requests"] for p in points],
                [p["rss_mib"] for p in points],
                "o-",
                color="#d95f02",
                label="RSS of the fake",
            )
            axes.axvline(
                journal["journal_limit"],
                color="#999999",
                linestyle=":",
                label=f"journal limit ({journal['journal_limit']:,})",
            )
            axes.set_ylim(bottom=0)
            axes.set_xlabel("requests served")
            axes.set_ylabel("MiB")
            axes.set_title("Fake's memory over 100,000 requests (bounded journal)")
            axes.legend(fontsize=8)

        lines += page.chart("journal_memory", "journal memory chart", draw)
    return lines


def instructions(page: Page) -> list[str]:
    """Instructions per request and per test, the checkout against the fake before its split
    into engine, doors and HTTP shell: the one comparison a shared machine does not move."""
    lines = ["## Instructions: per request and per test, before and after the split", ""]
    questions = ("instructions per chat request / before", "instructions per test / before")
    gone = page.failed("instructions")
    data = page.data("instructions")
    before = data.get("before_commit")
    results = data.get("results") or {}
    now = next((label for label in results if label != before), None)
    if gone or before not in results or now is None:
        for question in questions:
            page.target(question, page.state("instructions"), "<= 1.0x", None)
        return lines + (gone or ["Not measured."])
    lines += [
        f"Counted by valgrind's callgrind (`bench_instructions.py --before {before}`, "
        "`PYTHONHASHSEED=0`): the same figure on any run of the same code. A request: the "
        f"fake's own instructions for each of {data['requests']} requests after a warm-up. A "
        f"test: `bench_plugin.py`'s lmstudio test (script a reply, call the sync provider) "
        f"under pytest, the total of {data['tests']} + 2 tests less that of 2, over "
        f"{data['tests']}: pytest, the plugin, the provider and the fake together. Before: "
        f"commit {before}, the last before the fake was split into engine, doors and HTTP "
        "shell.",
        "",
    ]
    names = {
        "chat": "a chat request (default answer)",
        "chat-stream": "a streamed chat request",
        "test": "a test (scripted reply + provider call)",
    }
    rows = []
    for kind, label in names.items():
        if kind in results[before] and kind in results[now]:
            old, new = results[before][kind], results[now][kind]
            rows.append([label, f"{old:,.0f}", f"{new:,.0f}", f"{new / old:.3f}x"])
    lines += table(["instructions for", f"at {before}", "now", "now / before"], rows)
    for question, kind in zip(questions, ("chat", "test"), strict=True):
        if kind in results[before] and kind in results[now]:
            ratio = results[now][kind] / results[before][kind]
            page.target(question, f"{ratio:.3f}x", "<= 1.0x", ratio <= 1.0)
    return lines
