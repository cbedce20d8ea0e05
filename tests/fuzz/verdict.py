"""The verdict of one run: what was sent, how the fake answered, what it journaled and
logged, and the failures among all that."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .harness import JournalReport, ServerLog

__all__ = ["Tally", "Verdict", "status_class"]

EXAMPLES_PER_ISSUE = 3


def status_class(status: int | None) -> str:
    return "no answer" if status is None else f"{status // 100}xx"


@dataclass
class Tally:
    """Requests of one phase: answers by status class, by kind, and failures by issue."""

    sent: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    kinds: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    labels: Counter[str] = field(default_factory=Counter)
    issues: Counter[str] = field(default_factory=Counter)
    examples: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def count(self, kind: str, label: str, status: int | None) -> None:
        self.sent += 1
        self.classes[status_class(status)] += 1
        self.kinds[kind][status_class(status)] += 1
        self.labels[label] += 1

    def fail(self, issue: str, example: str) -> None:
        self.issues[issue] += 1
        if len(self.examples[issue]) < EXAMPLES_PER_ISSUE:
            self.examples[issue].append(example)


@dataclass
class Verdict:
    http: Tally = field(default_factory=Tally)  # requests the fake can parse as HTTP
    wire: Tally = field(default_factory=Tally)  # raw-socket probes
    admin: Tally = field(default_factory=Tally)  # the admin phase (scenario, reset, clear)
    http_layer: int = 0  # answered by aiohttp's own 4xx before any handler: not journaled
    journal_expected: int = 0
    journal_slack: int = 0  # requests with no answer: journaled or not, depending on timing
    journal_lines: int = 0
    journal_total: int | None = None  # the fake's own count (GET /__fake__/requests)
    journal_total_error: str = ""
    journal: JournalReport = field(default_factory=JournalReport)
    check_status: int | None = None
    check_message: str = ""
    log: ServerLog = field(default_factory=lambda: ServerLog(0, []))
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    rss_peak_kib: int = 0
    rss_limit_kib: int = 1024 * 1024
    aborted: str = ""  # why the run stopped early
    seconds: float = 0.0
    fake_cpu: float = 0.0
    client_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each phase took

    @property
    def total_sent(self) -> int:
        return self.http.sent + self.wire.sent + self.admin.sent

    def failures(self) -> list[str]:
        out = [f"run stopped early: {self.aborted}"] if self.aborted else []
        for phase, tally in (("http", self.http), ("wire", self.wire), ("admin", self.admin)):
            for issue, n in sorted(tally.issues.items()):
                out.append(f"[{phase}] {issue}: {n}")
        if self.log.tracebacks:
            out.append(f"server tracebacks on stderr: {self.log.tracebacks}")
        elif self.log.noise:
            out.append(f"server stderr not empty: {len(self.log.noise)} lines")
        if self.check_status != 200:
            out.append(f"GET /__fake__/check answered {self.check_status}")
        low, high = self.journal_expected, self.journal_expected + self.journal_slack
        if not low <= self.journal_lines <= high:
            out.append(f"journal lines {self.journal_lines}, expected {self._expected_text()}")
        if self.journal_total_error:
            out.append(f"GET /__fake__/requests answered {self.journal_total_error[:80]}")
        elif self.journal_total is not None and not low <= self.journal_total <= high:
            out.append(f"the fake's journal total {self.journal_total}, expected {low}..{high}")
        if self.journal.bad_count:
            out.append(f"journal lines that are not strict JSON: {self.journal.bad_count}")
        if max(self.rss_after_kib, self.rss_peak_kib) > self.rss_limit_kib:
            out.append(
                f"fake RSS {max(self.rss_after_kib, self.rss_peak_kib) // 1024} MiB over the limit "
                f"{self.rss_limit_kib // 1024} MiB"
            )
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    def _expected_text(self) -> str:
        if not self.journal_slack:
            return str(self.journal_expected)
        return (
            f"{self.journal_expected}..{self.journal_expected + self.journal_slack} "
            f"({self.journal_slack} requests without an answer may or may not be)"
        )

    def render(self) -> str:
        fives = sum(t.classes["5xx"] for t in (self.http, self.wire, self.admin))
        total = "?" if self.journal_total is None else f"{self.journal_total:,}"
        strict = f"{self.journal.bad_count} bad lines" if self.journal.bad_count else "yes"
        mib = [f"{k / 1024:.0f}" for k in (self.rss_before_kib, self.rss_after_kib)]
        rows: list[tuple[str, str]] = [
            ("requests sent", f"{self.total_sent:,} in {self.seconds:.1f} s"),
            ("phases", "  ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())),
            ("CPU: fake / fuzzer", f"{self.fake_cpu:.1f} s / {self.client_cpu:.1f} s"),
            ("  parseable HTTP (fuzz)", f"{self.http.sent:,}  {_classes(self.http)}"),
            ("    answered by aiohttp itself", f"{self.http_layer:,} (4xx, no journal line)"),
            ("  raw-socket probes", f"{self.wire.sent:,}  {_classes(self.wire)}"),
            ("  admin phase", f"{self.admin.sent:,}  {_classes(self.admin)}"),
            ("answers 5xx", str(fives)),
            ("server tracebacks (stderr)", str(self.log.tracebacks)),
            ("stderr lines", str(len(self.log.noise))),
            ("GET /__fake__/check", f"{self.check_status} {_first_line(self.check_message)}"),
            ("journal lines", f"{self.journal_lines:,} (expected {self._expected_text()})"),
            ("journal total (admin API)", self.journal_total_error[:60] or total),
            ("journal strict JSON", strict),
            (
                "fake RSS before / after",
                f"{mib[0]} / {mib[1]} MiB (peak {self.rss_peak_kib // 1024})",
            ),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
        lines += ["", "answers by damage kind (parseable HTTP):"]
        for kind, classes in sorted(self.http.kinds.items()):
            lines.append(f"  {kind.ljust(28)} {_counter(classes)}")
        lines += ["", "raw-socket probes:"]
        for kind, classes in sorted(self.wire.kinds.items()):
            lines.append(f"  {kind.ljust(28)} {_counter(classes)}")
        failures = self.failures()
        lines += ["", f"VERDICT: {'PASS' if not failures else 'FAIL'}"]
        lines += [f"  - {f}" for f in failures]
        for tally in (self.http, self.wire, self.admin):
            for issue, examples in sorted(tally.examples.items()):
                lines.append(f"  e.g. {issue}:")
                lines += [f"      {e}" for e in examples]
        if self.log.tracebacks:
            lines.append("  server tracebacks, by the exception that ends them:")
            for name, n in self.log.exceptions().most_common():
                lines.append(f"      {n:6,}  {name}")
        if self.log.noise:
            lines.append("  server stderr (first lines):")
            lines += [f"      {line[:200]}" for line in self.log.noise[:12]]
        if self.check_status not in (200, None):
            lines.append("  GET /__fake__/check said:")
            lines += [f"      {line[:200]}" for line in self.check_message.splitlines()[:12]]
        lines += [f"  journal: {bad}" for bad in self.journal.bad]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def _counter(counter: Counter[str]) -> str:
    return "  ".join(f"{k} {v:,}" for k, v in sorted(counter.items()))


def _classes(tally: Tally) -> str:
    return f"[{_counter(tally.classes)}]" if tally.classes else ""


def _first_line(text: str) -> str:
    return text.splitlines()[0][:120] if text else ""
