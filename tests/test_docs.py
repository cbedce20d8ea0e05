"""The README and the pages of ``docs/`` are tests: every ``python`` script block runs (test-file
blocks run with the plugin in ``tests/plugin/test_doc_examples.py``), every ``json`` block is a
scenario the fake accepts, every ``toml`` block a provider config file, every ``yaml`` block
parses, the CLI page's curl session runs; the site's navigation names every page, no link points
nowhere, and every class, call, fixture and option the pages name exists.

The provider's examples are production code that finds LM Studio through the environment, so
each block runs with ``LMSTUDIO_ENDPOINT`` pointed at a fake LM Studio and no LM Studio home.
"""

from __future__ import annotations

import builtins
import json
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fake_server import FakeLMStudio
from pytest_lmstudio import LMStudioConfig
from tests.doc_blocks import DOCS, ROOT, Block, all_blocks, pages

BLOCKS = all_blocks()
#: Python blocks deliberately not run, by page: each has a ``<!-- no-run: reason -->`` above it.
#: A new one is added here on purpose, so that no example stops running unnoticed.
NOT_RUN: dict[str, int] = {}
#: Languages of fenced blocks, and what checks them: python, json, toml and yaml here; js in the
#: Node example's test; sh and plain blocks (diagrams, output) are read, not run.
LANGUAGES = {"python", "json", "toml", "yaml", "js", "sh", ""}
README_MAX_LINES = 200


def of(language: str) -> list[Block]:
    return [block for block in BLOCKS if block.language == language]


def ids(block: Block) -> str:
    return block.id


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLMStudio]:
    with FakeLMStudio() as fake:
        yield fake


def test_readme_opens_with_the_two_commands() -> None:
    first = of("sh")[0]
    assert first.page == "README.md"
    lines = first.code.splitlines()
    assert lines[0].startswith("make serve") and lines[1].startswith("make test")


def test_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move reference to docs/"


def test_every_block_has_a_known_language() -> None:
    unknown = [(block.id, block.language) for block in BLOCKS if block.language not in LANGUAGES]
    assert not unknown, f"no test checks blocks in these languages: {unknown}"


def test_the_blocks_not_run_are_the_listed_ones() -> None:
    not_run = Counter(block.page for block in of("python") if block.no_run)
    assert dict(not_run) == NOT_RUN


@pytest.mark.parametrize("block", [b for b in of("python") if b.is_script], ids=ids)
def test_python_script_runs(
    block: Block,
    server: FakeLMStudio,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.reset()
    for variable in ("LMSTUDIO_CONFIG", "LMSTUDIO_API_TOKEN", "LMSTUDIO_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LMSTUDIO_ENDPOINT", server.url)
    monkeypatch.setenv("HOME", str(tmp_path))  # discover(): no LM Studio home here
    exec(compile(block.source(), str(ROOT / block.page), "exec"), {"__name__": "docs_example"})
    if "LMStudioProvider()" in block.code:  # production code reading its environment
        assert server.requests, "the example never reached the server"
    if "print(" in block.code:
        assert capsys.readouterr().out.strip(), "the example printed nothing"
    server.check()


def test_every_door_page_has_a_script() -> None:
    doors = {block.page for block in of("python") if block.page.startswith("docs/doors/")}
    assert doors == {page.relative_to(ROOT).as_posix() for page in (DOCS / "doors").glob("*.md")}


@pytest.mark.parametrize("block", of("json"), ids=ids)
def test_json_block_is_a_scenario(block: Block) -> None:
    with FakeLMStudio(scenario=json.loads(block.code)) as fake:
        assert fake.rules


@pytest.mark.parametrize("block", of("toml"), ids=ids)
def test_toml_block_is_a_provider_config(block: Block, tmp_path: Path) -> None:
    file = tmp_path / "lmstudio.toml"
    file.write_text(block.code)
    config = LMStudioConfig.load(file, env={})
    assert config != LMStudioConfig()


@pytest.mark.parametrize("block", of("yaml"), ids=ids)
def test_yaml_block_parses(block: Block) -> None:
    assert yaml.safe_load(block.code)


def nav_pages(entries: object) -> set[str]:
    if isinstance(entries, str):
        return {entries}
    if isinstance(entries, list):
        return set().union(*(nav_pages(entry) for entry in entries))
    if isinstance(entries, dict):
        return set().union(*(nav_pages(value) for value in entries.values()))
    return set()


def test_the_site_navigation_names_every_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    on_disk = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert nav_pages(config["nav"]) == on_disk


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.MULTILINE)


def anchor(heading: str) -> str:
    """The id Python-Markdown's toc gives a heading (mkdocs' default slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    outside_fences = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return {anchor(heading) for heading in HEADING.findall(outside_fences)}


def internal_links() -> list[tuple[str, str]]:
    found = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
        for target in LINK.findall(text):
            if not re.match(r"[a-z]+:", target):
                found.append((page.relative_to(ROOT).as_posix(), target))
    return found


@pytest.mark.parametrize(("page", "target"), internal_links())
def test_internal_link_points_somewhere(page: str, target: str) -> None:
    source = ROOT / page
    path, _, fragment = target.partition("#")
    destination = (source.parent / path).resolve() if path else source
    assert destination.exists(), f"{page} links to {target}: no such file"
    if source.is_relative_to(DOCS):
        assert destination.is_relative_to(DOCS), f"{page} links outside the site: {target}"
    if fragment and destination.suffix == ".md":
        assert fragment in anchors(destination), f"{page} links to {target}: no such heading"


def test_every_fence_is_closed() -> None:
    for page in pages():
        fences = re.findall(r"^```", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
        assert len(fences) % 2 == 0, f"{page.name}: a code fence is never closed"


#: Pages that name private parts on purpose (the layers) or that a script writes.
INTERNALS = {"docs/architecture.md", "docs/benchmarks.md"}
#: Names the user pages cite from other packages (besides Python's builtins): pydantic-ai's
#: ModelBehaviorError, anthropic's NotFoundError.
FOREIGN = {
    "NaN",
    "ModelBehaviorError",
    "NotFoundError",
    # The clients docs/plugin.md names beside the variables they read; httpx's error in a message.
    "OpenAI",
    "AsyncOpenAI",
    "ChatOpenAI",
    "OpenAIProvider",
    "ConnectError",
}


def code_spans(doors: bool = True) -> list[str]:
    """The code spans of the user pages; ``doors=False`` leaves out the door pages, which name
    the calls of other packages' clients (the lmstudio SDK's ``list_downloaded_models()``)."""
    spans = []
    for page in pages():
        name = page.relative_to(ROOT).as_posix()
        if name not in INTERNALS and (doors or not name.startswith("docs/doors/")):
            spans += re.findall(r"`([^`\n]+)`", page.read_text(encoding="utf-8"))
    return spans


def test_every_documented_class_is_public() -> None:
    import fake_server
    import pytest_lmstudio

    public = {*fake_server.__all__, *pytest_lmstudio.__all__, *FOREIGN, *dir(builtins)}
    camel = re.compile(r"(?<![\w.])([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)\b")
    named = {name for span in code_spans() for name in camel.findall(span)}
    assert named - public == set()


def test_every_documented_call_exists(server: FakeLMStudio) -> None:
    import pytest_lmstudio
    import pytest_lmstudio.plugin
    from fake_server import FakeLMStudio, RouteScript

    owners = (
        FakeLMStudio,
        RouteScript,
        pytest_lmstudio.SyncLMStudioProvider,
        pytest_lmstudio.LMStudioProvider,
        pytest_lmstudio.ToolCall,
        pytest_lmstudio,
        pytest_lmstudio.plugin,
        __builtins__,
    )
    spans = code_spans()
    calls = {m for span in code_spans(doors=False) for m in re.findall(r"^([a-z_]\w*)\(", span)}
    chains = {m for span in spans for m in re.findall(r"\bfake\.((?:\w+\.)*\w+)\(", span)}
    calls |= {m for span in spans for m in re.findall(r"\bprovider\.(\w+)\(", span)}

    def exists(name: str) -> bool:
        return any(
            name in owner if isinstance(owner, dict) else hasattr(owner, name) for owner in owners
        )

    def reachable(chain: str) -> bool:
        target: object = server
        for name in chain.split("."):
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True

    missing = {name for name in calls if not exists(name)}
    missing |= {f"fake.{chain}" for chain in chains if not reachable(chain)}
    assert missing == set()


def test_every_documented_fixture_and_option_exists() -> None:
    import pytest_lmstudio._options as options
    import pytest_lmstudio.plugin as plugin

    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (plugin, options))
    spans = code_spans()
    fixtures = {m for span in spans for m in re.findall(r"\b(lmstudio_\w+)", span)}
    options = {m for span in spans for m in re.findall(r"(--(?:no-)?lmstudio[\w-]*)", span)}
    missing = {name for name in fixtures if f'"{name}"' not in source and name not in dir(plugin)}
    missing |= {option for option in options if f'"{option}' not in source}
    assert missing == set()


def test_the_curl_block_runs(server: FakeLMStudio) -> None:
    """The CLI page's curl session, against a fake on another port than the page's 1234."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    server.reset()
    [block] = [b for b in of("sh") if b.page == "docs/cli.md" and b.code.startswith("curl")]
    script = block.code.replace("http://127.0.0.1:1234", server.url)
    run = subprocess.run(
        ["bash", "-e", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Hello from curl." in run.stdout
    assert not server.rules  # the last line reset the fake
