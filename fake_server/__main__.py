"""``lmstudio-fake`` / ``python -m fake_server``: the fake LM Studio as a standalone server."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO

from ._errors import FakeServerError, ScenarioError
from ._journal import RecordedRequest
from ._profiles import PROFILE_NAMES, REASONING_FORMATS
from ._server import FakeLMStudio
from ._settings import NOT_GIVEN
from .transport import LOOPBACK_HOSTS

DEFAULT_PORT = 1234
#: The ports LM Studio's SDKs probe (``GET /lmstudio-greeting``) when given no host: Python's
#: ``lmstudio`` 1.5+ one after another, ``@lmstudio/sdk`` all at once.
SDK_DEFAULT_PORTS = (41343, 52993, 16141, 39414, 22931)
MSG_SDK_PORTS_TAKEN = (
    "--sdk-port: every port LM Studio's SDKs probe is taken ({ports}): is LM Studio running? "
    "Quit it, or give the SDK the fake's address instead (lmstudio.Client('127.0.0.1:PORT'))"
)
#: The API token from the environment, so that it does not show in `ps`.
TOKEN_ENV = "LMSTUDIO_FAKE_API_TOKEN"
MSG_REMOTE_WITHOUT_TOKEN = (
    "lmstudio-fake: warning: --allow-remote without an API token: anyone who can reach "
    "{host} can use the fake and reprogram it through its admin API "
    f"(set --api-token-file or {TOKEN_ENV})"
)


class _PrintVersion(argparse.Action):
    """``--version``: reads the version only when asked (it lives in pytest_lmstudio, which
    the fake does not otherwise load)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None):
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from pytest_lmstudio._version import __version__

        print(f"lmstudio-fake {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lmstudio-fake",
        description="A fake LM Studio server (OpenAI-compatible API) for tests and CI.",
    )
    parser.add_argument("--version", action=_PrintVersion, help="print the version and exit")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default 1234; 0 picks a free one)"
    )
    parser.add_argument(
        "--sdk-port",
        nargs="?",
        const="auto",
        default=None,
        metavar="PORT",
        help="also listen on PORT, one of the ports LM Studio's SDKs probe when given no host "
        f"({', '.join(map(str, SDK_DEFAULT_PORTS))}), so that lmstudio.Client() and "
        "new LMStudioClient() find the fake; without PORT, the first of them that is free",
    )
    parser.add_argument("--scenario", metavar="FILE", help="a JSON or TOML scenario file to load")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the default answers (default 0; overrides the scenario's)",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        default=None,
        help="answer shapes (default lmstudio; overrides the scenario's)",
    )
    parser.add_argument(
        "--journal", metavar="FILE.jsonl", help="append every request, as JSON lines, to this file"
    )
    parser.add_argument(
        "-v",
        "--log",
        action="store_true",
        help="print one line per request to stderr: method, path, model, status, the rule that "
        "answered (or default) and the milliseconds it took",
    )
    parser.add_argument("--no-jit", action="store_true", help="turn JIT model loading off")
    parser.add_argument(
        "--no-auto-evict",
        action="store_true",
        help="keep earlier JIT-loaded models when another one loads (LM Studio evicts them)",
    )
    parser.add_argument(
        "--reasoning-format",
        choices=REASONING_FORMATS,
        default=None,
        help="where reasoning goes (default: the profile's; the latest LM Studio: reasoning)",
    )
    parser.add_argument(
        "--single-loaded-fallback",
        action="store_true",
        help="LM Studio's bug #619: with one model loaded, any model name is served by it",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--api-token",
        metavar="TOKEN",
        help=f"require this Bearer token (401 otherwise); visible to other users in `ps`: "
        f"prefer --api-token-file or the {TOKEN_ENV} environment variable",
    )
    token.add_argument(
        "--api-token-file", metavar="FILE", help="require the Bearer token read from FILE"
    )
    parser.add_argument("--cors", action="store_true", help="send CORS headers, answer preflights")
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="do not check requests and answers against schemas/",
    )
    parser.add_argument(
        "--allow-remote",
        nargs="?",
        const="",
        default=None,
        metavar="HOST[,HOST...]",
        help="allow a host other than loopback (the fake has no authentication by default); "
        "the admin API then also answers requests addressed to these host names",
    )
    return parser


def _journal_writer(stream: IO[str]) -> Callable[[RecordedRequest], None]:
    lock = threading.Lock()

    def write(entry: RecordedRequest) -> None:
        line = entry.to_json()
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return write


def log_line(entry: RecordedRequest) -> str:
    """``POST /v1/chat/completions model=qwen/qwen3-8b -> 200 rule=#1 12.3 ms``: what
    ``--log`` prints for a request once it is answered (or the client went away)."""
    model = entry.model
    if model is None and isinstance(entry.json, dict):  # refused before it was resolved
        asked = entry.json.get("model")
        model = asked if isinstance(asked, str) else None
    parts = [entry.method, entry.path]
    if model:
        parts.append(f"model={model}")
    parts += ["->", "(no answer)" if entry.status is None else str(entry.status)]
    parts.append("default" if entry.rule is None else f"rule=#{entry.rule.id}")
    if entry.fault:
        parts.append(f"[{entry.fault}]")
    if entry.duration is not None:
        parts.append(f"{entry.duration * 1000:.1f} ms")
    if entry.error:
        parts.append(f"({entry.error})")
    return " ".join(parts)


def _log_writer(stream: IO[str]) -> Callable[[RecordedRequest], None]:
    lock = threading.Lock()

    def write(entry: RecordedRequest) -> None:
        line = log_line(entry)
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return write


def _each(*callbacks: Callable[[RecordedRequest], None]) -> Callable[[RecordedRequest], None]:
    def call(entry: RecordedRequest) -> None:
        for callback in callbacks:
            callback(entry)

    return call


def _api_token(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str | None:
    """The token from --api-token, --api-token-file or the environment, in that order."""
    if args.api_token is not None:
        token: str | None = args.api_token
    elif args.api_token_file is not None:
        try:
            with open(args.api_token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            parser.error(f"cannot read --api-token-file {args.api_token_file}: {exc.strerror}")
        if not token:
            parser.error(f"--api-token-file {args.api_token_file} is empty")
    else:
        token = os.environ.get(TOKEN_ENV) or None
    return token


def _sdk_port(choice: str | None, host: str, parser: argparse.ArgumentParser) -> int | None:
    """The port of ``--sdk-port``: the one given, or the first of the SDKs' that is free."""
    if choice is None:
        return None
    if choice != "auto":
        if not choice.isdigit() or int(choice) not in SDK_DEFAULT_PORTS:
            parser.error(
                f"--sdk-port must be one of {', '.join(map(str, SDK_DEFAULT_PORTS))} (the ports "
                f"LM Studio's SDKs probe), got {choice!r}; --port takes any other port"
            )
        return int(choice)
    for port in SDK_DEFAULT_PORTS:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    parser.error(MSG_SDK_PORTS_TAKEN.format(ports=", ".join(map(str, SDK_DEFAULT_PORTS))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    remote_names = [n.strip() for n in (args.allow_remote or "").split(",") if n.strip()]
    allow_remote: bool | list[str] = remote_names or args.allow_remote is not None
    token = _api_token(args, parser)
    if args.host not in LOOPBACK_HOSTS and not allow_remote:
        parser.error(
            f"refusing to listen on {args.host}: only loopback addresses unless --allow-remote"
        )
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, got {args.port}")
    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    sdk_port = _sdk_port(args.sdk_port, args.host, parser)
    if sdk_port is not None and sdk_port == args.port:
        parser.error(f"--sdk-port {sdk_port} is already the --port; leave one of them out")
    journal: IO[str] | None = None
    on_request: Callable[[RecordedRequest], None] | None = None
    if args.journal:
        try:
            journal = open(args.journal, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            parser.error(f"cannot open --journal {args.journal}: {exc.strerror or exc}")
    callbacks = [_journal_writer(journal)] if journal is not None else []
    if args.log:
        # stderr: stdout carries only the ready lines, which scripts read for the URL.
        callbacks.append(_log_writer(sys.stderr))
    if callbacks:
        on_request = callbacks[0] if len(callbacks) == 1 else _each(*callbacks)
    try:
        fake = FakeLMStudio(
            host=args.host,
            port=args.port,
            # Flags left out are NOT_GIVEN, so that the scenario's settings apply; flags
            # given win over the scenario.
            seed=NOT_GIVEN if args.seed is None else args.seed,
            profile=NOT_GIVEN if args.profile is None else args.profile,
            jit=False if args.no_jit else NOT_GIVEN,
            api_token=NOT_GIVEN if token is None else token,
            cors=args.cors,
            single_loaded_fallback=True if args.single_loaded_fallback else NOT_GIVEN,
            auto_evict=False if args.no_auto_evict else NOT_GIVEN,
            reasoning_format=NOT_GIVEN if args.reasoning_format is None else args.reasoning_format,
            validate=not args.no_validate,
            allow_remote=allow_remote,
            scenario=args.scenario,
            on_request=on_request,
            extra_ports=() if sdk_port is None else (sdk_port,),
        )
        fake.start()
        if allow_remote and fake.api_token is None:
            print(MSG_REMOTE_WITHOUT_TOKEN.format(host=args.host), file=sys.stderr, flush=True)
    except (ScenarioError, FakeServerError, ValueError) as exc:
        hint = ""
        if sdk_port is not None and f":{sdk_port}:" in str(exc):
            hint = " (--sdk-port: LM Studio, or another fake, may be there; try another port)"
        print(f"lmstudio-fake: {exc}{hint}", file=sys.stderr)
        if journal is not None:
            journal.close()
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"lmstudio-fake listening on {fake.url}", flush=True)
    if sdk_port is not None:
        print(
            f"lmstudio-fake also listening on port {sdk_port}, where LM Studio's SDKs look "
            "when given no host",
            flush=True,
        )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.close()
        if journal is not None:
            journal.close()
    print("lmstudio-fake stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
