"""The report's sections on the plugin and the provider: the per-test cost against respx and
pytest-httpserver, the provider against raw httpx and the openai SDK, start-up, import and
``reset()``, and the per-test cost as a suite grows.

Each section is a function of the page that returns its Markdown lines, records its targets on
the page and draws its chart; a benchmark that gave no figures gets a section that says why.
"""

from __future__ import annotations

from typing import Any

from _harness import (
    PER_TEST_VS_HTTPSERVER,
    PER_TEST_VS_RESPX,
    PROVIDER_VS_HTTPX,
    PROVIDER_VS_OPENAI,
    RESET_US,
    SCALE_GROWTH,
    STARTUP_MS,
)
from _report_page import Page, paired, spread, table, verdict

RESPX = f"<= {PER_TEST_VS_RESPX:g}x"
HTTPSERVER = f"<= {PER_TEST_VS_HTTPSERVER:g}x"
HTTPX = f"<= {PROVIDER_VS_HTTPX:g}x"
OPENAI = f"< {PROVIDER_VS_OPENAI:.1f}x"
STARTUP = f"<= {STARTUP_MS:g} ms"
GROWTH = f"within {SCALE_GROWTH * 100:g} %"


def per_test(page: Page) -> list[str]:
    lines = ["## Per test: the plugin against respx and pytest-httpserver", ""]
    gone = page.failed("plugin")
    data = page.data("plugin")
    per = data.get("per_test") or {}
    if gone or not per:
        page.target("per test / respx", page.state("plugin"), RESPX, None)
        page.target("per test / pytest-httpserver", page.state("plugin"), HTTPSERVER, None)
        return lines + (gone or ["Not measured."])
    tests = per["lmstudio"]["tests"]
    lines += [
        f"{tests} generated tests, each scripting one chat answer and making one call, one "
        "pytest subprocess per suite with only its plugin loaded; the time from the end of "
        f"the first test to the end of the last / {tests - 1} (start-up, collection and "
        f"one-off set-up left out); median of {per['lmstudio']['rounds']} alternating runs.",
        "",
    ]
    names = {
        "lmstudio": "pytest-lmstudio: `lmstudio_fake.chat.reply()` + "
        "`lmstudio_sync_provider.complete()`",
        "respx": "respx: `respx_mock.post(url).respond(json=...)` + `httpx.Client.post`",
        "httpserver": "pytest-httpserver: `expect_request().respond_with_json()` + "
        "`httpx.Client.post`",
    }
    before = (per.get("lmstudio-before") or {}).get("commit")
    if before:
        names["lmstudio-before"] = (
            f"pytest-lmstudio at {before} (before the fake's split), the same suite"
        )
    ours = per["lmstudio"]["median_ms_per_test"]
    rows = []
    for kind, label in names.items():
        entry = per[kind]
        runs = ", ".join(f"{v:.3f}" for v in entry["all_ms_per_test"])
        ratio = ours / entry["median_ms_per_test"]
        rows.append(
            [
                label,
                f"{entry['median_ms_per_test']:.3f} ms",
                runs,
                "1.00x" if kind == "lmstudio" else f"{ratio:.2f}x",
            ]
        )
    lines += table(["suite", "per test (median)", "runs (ms)", "ours / this"], rows)
    r1 = page.target(
        "per test / respx",
        f"{per['ratio_to_respx']:.2f}x",
        RESPX,
        per["ratio_to_respx"] <= PER_TEST_VS_RESPX,
    )
    r2 = page.target(
        "per test / pytest-httpserver",
        f"{per['ratio_to_httpserver']:.2f}x",
        HTTPSERVER,
        per["ratio_to_httpserver"] <= PER_TEST_VS_HTTPSERVER,
    )
    lines += [
        f"Targets: at most {PER_TEST_VS_RESPX:g}x respx ({per['ratio_to_respx']:.2f}x: {r1}), "
        f"at most {PER_TEST_VS_HTTPSERVER:g}x "
        f"pytest-httpserver ({per['ratio_to_httpserver']:.2f}x: {r2}).",
        "",
    ]
    if before:
        now, then = per["lmstudio"]["all_ms_per_test"], per["lmstudio-before"]["all_ms_per_test"]
        ratio, moved = paired(now, then)
        lines += [
            f"Against itself before the fake's split into engine, doors and HTTP shell (commit "
            f"{before}, `--before {before}`, the same suite in the same rounds): "
            f"{per['ratio_to_before']:.2f}x by the medians, {ratio:.2f}x by the median of the "
            f"rounds' ratios; its own rounds were {moved:.0%} apart, so the verdict is taken on "
            "the instructions a test costs, which do not move (the instructions section).",
            "",
        ]

    def draw(figure: Any, axes: Any) -> None:
        labels = ["pytest-lmstudio", "respx", "pytest-httpserver"]
        values = [per[k]["median_ms_per_test"] for k in ("lmstudio", "respx", "httpserver")]
        bars = axes.bar(labels, values, color=["#d95f02", "#7570b3", "#1b9e77"])
        axes.bar_label(bars, fmt="%.2f ms")
        axes.set_ylabel("ms per test (median)")
        axes.set_title(f"Per-test cost, {tests} tests: one scripted answer, one call")

    return lines + page.chart("per_test", "per-test cost", draw)


def provider(page: Page) -> list[str]:
    lines = [
        "## Provider: `complete()` and `stream()` against raw httpx and the openai SDK",
        "",
    ]
    present = {n: page.data(n) for n in ("provider-async", "provider-sync") if page.data(n)}
    gone = page.failed("provider-async", "provider-sync")
    if not present:
        page.target(
            "provider time / raw httpx",
            page.state("provider-async", "provider-sync"),
            HTTPX,
            None,
        )
        page.target(
            "provider time / openai SDK",
            page.state("provider-async", "provider-sync"),
            OPENAI,
            None,
        )
        return lines + gone
    first = next(iter(present.values()))
    lines += [
        f"One `FakeLMStudio` in a thread, a fixed scripted reply (whole, or "
        f"{first['stream_pieces']} pieces streamed); {first['requests_per_client']} "
        f"sequential requests per client in {first['rounds']} interleaved rounds on "
        "keep-alive connections; time per request, and its ratio to raw httpx's "
        "(`post()` + `json()`, or `stream()` with the `data:` lines parsed) and to the "
        f"openai SDK's (openai {first['versions']['openai']}, httpx "
        f"{first['versions']['httpx']}).",
        "",
    ]
    rows = []
    worst_httpx = 0.0
    worst_openai = 0.0
    bars: dict[str, dict[str, float]] = {}
    for data in present.values():
        for what, result in data["results"].items():
            rates = result["requests_per_second"]
            label = f"{data['mode']} {what}()"
            bars[label] = {k: 1e6 / v for k, v in rates.items()}
            rows.append(
                [
                    label,
                    *(f"{1e6 / rates[k]:,.0f} us" for k in ("provider", "httpx", "openai")),
                    f"{result['time_ratio_to_httpx']:.2f}x",
                    f"{result['time_ratio_to_openai']:.2f}x",
                ]
            )
            worst_httpx = max(worst_httpx, result["time_ratio_to_httpx"])
            worst_openai = max(worst_openai, result["time_ratio_to_openai"])
    lines += table(
        [
            "call",
            "provider",
            "raw httpx",
            "openai SDK",
            "provider / httpx",
            "provider / openai",
        ],
        rows,
    )
    a = page.target(
        "provider time / raw httpx (worst of async, sync, complete, stream)",
        f"{worst_httpx:.2f}x",
        HTTPX,
        worst_httpx <= PROVIDER_VS_HTTPX,
    )
    b = page.target(
        "provider time / openai SDK (worst)",
        f"{worst_openai:.2f}x",
        OPENAI,
        worst_openai < PROVIDER_VS_OPENAI,
    )
    lines += [
        f"Targets: at most {PROVIDER_VS_HTTPX:g}x raw httpx ({worst_httpx:.2f}x at worst: {a}); "
        f"below {PROVIDER_VS_OPENAI:.1f}x "
        f"the openai SDK ({worst_openai:.2f}x at worst: {b}).",
        "",
    ]
    if gone:
        lines += gone

    def draw(figure: Any, axes: Any) -> None:
        labels = list(bars)
        width = 0.27
        colors = {"provider": "#d95f02", "httpx": "#7570b3", "openai": "#1b9e77"}
        for i, client in enumerate(("provider", "httpx", "openai")):
            xs = [j + (i - 1) * width for j in range(len(labels))]
            axes.bar(
                xs, [bars[k][client] for k in labels], width, label=client, color=colors[client]
            )
        axes.set_xticks(range(len(labels)), labels)
        axes.set_ylabel("microseconds per request")
        axes.set_title("Client cost on the same fake (lower is better)")
        axes.legend(fontsize=8)

    return lines + page.chart("provider", "provider chart", draw)


def startup(page: Page) -> list[str]:
    lines = ["## Start-up: the plugin's cost to a run that does not use it, and the import", ""]
    gone = page.failed("plugin")
    data = page.data("plugin")
    if gone or not data.get("startup"):
        page.target("plugin start-up", page.state("plugin"), STARTUP, None)
        return lines + (gone or ["Not measured."])
    lines += [
        "Wall time of `pytest --co -q` on one trivial test, with and without the plugin, "
        "run alternately (median); `import` in a fresh interpreter against `python -c pass` "
        "(median wall time, and the cumulative time `-X importtime` reports).",
        "",
    ]
    rows = []
    for name, entry in data["startup"].items():
        what = (
            "every installed plugin, with and without `-p no:lmstudio`"
            if name == "all plugins"
            else "auto-loading off, `-p pytest_lmstudio.plugin` against nothing"
        )
        rows.append(
            [
                f"pytest start-up, {what} ({entry['runs']} runs each)",
                f"medians {entry['with_ms']:.1f} ms with, {entry['without_ms']:.1f} ms "
                f"without; fastest {min(entry['with_all_ms']):.1f} and "
                f"{min(entry['without_all_ms']):.1f} ms",
                f"{entry['difference_ms']:+.1f} ms (fastest runs: "
                f"{min(entry['with_all_ms']) - min(entry['without_all_ms']):+.1f} ms)",
            ]
        )
    imports = data.get("imports") or {}
    for name, entry in imports.items():
        if not isinstance(entry, dict):
            continue
        rows.append(
            [
                f"`{name}` ({imports['runs']} runs)",
                f"{entry['wall_ms']:.1f} ms against {imports['interpreter_ms']:.1f} ms",
                f"{entry['wall_difference_ms']:+.1f} ms wall, {entry['importtime_ms']:.1f} ms "
                "by -X importtime",
            ]
        )
    for name, entry in (data.get("reset") or {}).items():
        rows.append(
            [
                f"`fake.reset()`, {name} ({entry['iterations']:,} calls)",
                f"median {entry['median_us']:.1f} us, p95 {entry['p95_us']:.1f} us",
                f"target <= {RESET_US:g} us: {verdict(entry['median_us'] <= RESET_US)}",
            ]
        )
    lines += table(["measure", "figures", "cost"], rows)
    alone = data["startup"].get("plugin alone") or next(iter(data["startup"].values()))
    every = data["startup"].get("all plugins")
    shown = page.target(
        "plugin start-up (plugin alone; every plugin loaded in the next column)",
        f"{alone['difference_ms']:+.1f} ms"
        + (f" ({every['difference_ms']:+.1f} ms)" if every else ""),
        STARTUP,
        alone["difference_ms"] <= STARTUP_MS,
    )
    lines += [
        f"Target: at most {STARTUP_MS:g} ms: {shown}, judged on the plugin-alone pair "
        f"({alone['difference_ms']:+.1f} ms). Both pairs measure the same cost; the pair "
        "with every installed plugin"
        + (f" ({every['difference_ms']:+.1f} ms)" if every else "")
        + " adds the other plugins' start-up, several hundred ms that vary by tens of ms "
        "from run to run on a shared machine, so its difference of two medians is shown, "
        "not judged.",
        "",
    ]
    return lines


def scale(page: Page) -> list[str]:
    lines = ["## Scale: per-test cost at 100, 1,000 and 5,000 tests", ""]
    gone = page.failed("scale")
    if gone:
        page.target("per-test cost, largest suite / smallest", page.state("scale"), GROWTH, None)
        return lines + gone
    data = page.data("scale")
    results = data["results"]
    sizes = list(results)
    samples = ", ".join(str(len(results[n]["rounds"])) for n in sizes)
    lines += [
        "Generated suites of `lmstudio_fake.chat.reply()` + `lmstudio_sync_provider.complete()`"
        f" tests, {data['tests_per_file']} per file, only the plugin loaded; per test: from "
        f"the end of test {data['warmup_tests']} to the end of the last (start-up, "
        f"collection and the first {data['warmup_tests']} tests left out: the same steady "
        f"state at every size); median of the runs, in {data['rounds']} alternating rounds "
        f"(runs per size: {samples}: a short suite runs several times a round, since a "
        "short run is noisy). Beside it: the "
        "figure counted from the first test, the cost of the last 100 tests of the run, and "
        "the run's peak RSS (pytest's own, the fake included: it runs in a thread).",
        "",
    ]
    rows = []
    for n in sizes:
        s = results[n]
        rows.append(
            [
                f"{int(n):,}",
                f"{s['per_test_ms']:.3f} ms",
                f"{s['ratio_to_smallest']:.2f}x",
                spread(s["rounds"]),
                f"{s['after_first_ms']:.3f} ms",
                f"{s['last_per_test_ms']:.3f} ms",
                f"{s['wall_s']:.1f} s",
                f"{s['peak_rss_mib']:.0f} MiB",
            ]
        )
    lines += table(
        [
            "tests",
            "per test",
            "vs smallest",
            "runs (ms)",
            "from the first test",
            "last 100 tests",
            "run wall",
            "peak RSS",
        ],
        rows,
    )
    growth = data["growth"]
    shown = page.target(
        f"per-test cost at {int(sizes[-1]):,} tests / at {int(sizes[0]):,}",
        f"{growth * 100:+.1f} %",
        GROWTH,
        abs(growth) <= SCALE_GROWTH,
    )
    lines += [
        f"Target: the cost per test at {int(sizes[-1]):,} tests within "
        f"{SCALE_GROWTH * 100:g} % of that at {int(sizes[0]):,}: {shown} ({growth * 100:+.1f} %).",
        "",
    ]
    control = data.get("control") or {}
    if control:
        low_n, high_n = list(control["results"])
        low = control["results"][low_n]
        high = control["results"][high_n]
        lines += [
            f"Control, the same measure on the {control['kind']} suite of the per-test "
            f"question (pytest's own growth), in the same rounds: {low['per_test_ms']:.3f} "
            f"ms at {int(low_n):,} tests ({spread(low['rounds'])}),"
            f" {high['per_test_ms']:.3f} ms at {int(high_n):,} "
            f"({spread(high['rounds'])}): "
            f"{control['growth'] * 100:+.1f} %.",
            "",
        ]

    def draw(figure: Any, axes: Any) -> None:
        xs = [int(n) for n in sizes]
        axes.plot(
            xs,
            [results[n]["per_test_ms"] for n in sizes],
            "o-",
            color="#d95f02",
            label="per test (after the first 10)",
        )
        axes.plot(
            xs,
            [results[n]["last_per_test_ms"] for n in sizes],
            "s--",
            color="#7570b3",
            label="last 100 tests of the run",
        )
        if control:
            points = sorted((int(n), v["per_test_ms"]) for n, v in control["results"].items())
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                "^:",
                color="#1b9e77",
                label=f"{control['kind']} (control)",
            )
        axes.set_xscale("log")
        axes.set_xticks(xs, [f"{x:,}" for x in xs])
        axes.set_ylim(bottom=0)
        axes.set_xlabel("tests in the suite")
        axes.set_ylabel("ms per test")
        axes.set_title("Per-test cost against suite size (flat is the goal)")
        axes.legend(fontsize=8)

    return lines + page.chart("scale", "scale chart", draw)
