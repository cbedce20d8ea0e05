"""The code blocks of the README and of every page under ``docs/``, read once for the tests that
run them (``tests/test_docs.py``, ``tests/plugin/test_doc_examples.py``).

A ``python`` block is one of three kinds:

- a test file, when its fence has a title that names one (`` ```python title="test_x.py" ``):
  run with the plugin, as a downstream project would;
- not run, when an HTML comment right above it says why (``<!-- no-run: the reason -->``):
  ``tests/test_docs.py`` lists every such block, so none is left out silently;
- otherwise a script, run on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: A fence, its language and the rest of its opening line (attributes such as ``title="..."``).
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
TITLE = re.compile(r'title="([^"]+)"')
NO_RUN = re.compile(r"<!-- no-run: ([^\n]+?) -->\s*\Z")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, and what its fence and comment say."""

    page: str  # relative to the project root, e.g. "docs/provider.md"
    line: int  # of its first line of code (1-based)
    language: str
    code: str
    title: str | None
    no_run: str | None  # the reason, when it is not to be run

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_test_file(self) -> bool:
        return self.language == "python" and self.title is not None and self.no_run is None

    @property
    def is_script(self) -> bool:
        return self.language == "python" and self.title is None and self.no_run is None

    def source(self) -> str:
        """The code, pushed down to its line in the page, so a traceback names the page's line."""
        return "\n" * (self.line - 1) + self.code


def pages() -> list[Path]:
    """The README and every Markdown page of the site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def blocks_of(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        language, info, code = match.groups()
        title = TITLE.search(info)
        comment = NO_RUN.search(text, 0, match.start())
        found.append(
            Block(
                page=page.relative_to(ROOT).as_posix(),
                line=text.count("\n", 0, match.start(3)) + 1,
                language=language,
                code=code,
                title=title.group(1) if title else None,
                no_run=comment.group(1) if comment else None,
            )
        )
    return found


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks_of(page)]
