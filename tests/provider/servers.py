"""Small misbehaving servers on 127.0.0.1 for transport failures the fake does not script.

Real sockets, in a background thread, bound to a free port; each is a context manager.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from types import TracebackType


class _SocketServer:
    def __init__(self, handle: Callable[[socket.socket], None] | None) -> None:
        self._handle = handle
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        if handle is not None:
            self._sock.settimeout(0.05)
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        assert self._handle is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._open.append(conn)
            with contextlib.suppress(OSError):
                self._handle(conn)

    def __enter__(self) -> _SocketServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for conn in self._open:
            conn.close()
        self._sock.close()


def silent_server() -> _SocketServer:
    """Accepts connections (in the kernel's backlog) and never answers: a read timeout."""
    return _SocketServer(None)


def _read_request(conn: socket.socket) -> None:
    # The whole request, so that the client is done writing before the server acts.
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        part = conn.recv(65536)
        if not part:
            return
        body += part


def _reset(conn: socket.socket) -> None:
    _read_request(conn)
    # Linger 0: close sends RST, the peer sees "connection reset by peer".
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def resetting_server() -> _SocketServer:
    """Reads the request, then resets the connection without a byte of answer."""
    return _SocketServer(_reset)


def http_server(status: int, body: bytes, content_type: str = "application/json") -> _SocketServer:
    """Answers every request with this status and body (another service on the port)."""
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    def answer(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(head + body)
        conn.close()

    return _SocketServer(answer)


def truncating_server(head: bytes, partial_body: bytes) -> _SocketServer:
    """Sends a head promising more than the body it sends, then closes: a broken answer."""

    def answer(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(head + partial_body)
        conn.close()

    return _SocketServer(answer)


class Peer:
    """One connection of a ``HostileServer``: the request it carried, and ways to answer it."""

    def __init__(self, conn: socket.socket, head: bytes, body: bytes, stop: threading.Event):
        self.conn = conn
        self.head = head
        self.body = body
        self.stop = stop

    @property
    def token(self) -> str:
        """The bearer token the client sent (empty without one): what an echoing server echoes."""
        for line in self.head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"authorization":
                return value.strip().decode("latin-1").partition(" ")[2]
        return ""

    @property
    def wants_stream(self) -> bool:
        return b'"stream":true' in self.body.replace(b" ", b"")

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def every(self, seconds: float) -> Iterator[int]:
        """0, 1, 2 ... one every ``seconds``, until the server stops."""
        count = 0
        while not self.stop.is_set():
            yield count
            count += 1
            if seconds and self.stop.wait(seconds):
                return


class HostileServer:
    """A server on 127.0.0.1 that answers each request with ``handle(peer)``, in a thread per
    connection, and stops by itself ``lifetime`` seconds after it started (closing every
    connection), so that a client it keeps busy is released even if nothing else stops it."""

    def __init__(self, handle: Callable[[Peer], None], lifetime: float = 10.0) -> None:
        self._handle = handle
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.05)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._timer = threading.Timer(lifetime, self.close)
        self._timer.daemon = True
        self._timer.start()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            thread = threading.Thread(target=self._answer, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            head, body = request_of(conn)
            self._handle(Peer(conn, head, body, self._stop))
        except OSError:
            pass  # the client went away: that is what clients do to hostile servers
        except BaseException as exc:  # a bug in the handler: the test should hear of it
            self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        """Stop serving and close every connection; closing twice is harmless."""
        self._stop.set()
        self._timer.cancel()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not threading.current_thread():
            self._thread.join(5)
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        for thread in self._threads:
            thread.join(5)


def request_of(conn: socket.socket) -> tuple[bytes, bytes]:
    """The next request on ``conn``: its head and its body (ConnectionError if it closes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            raise ConnectionError("the client closed before its request was whole")
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        part = conn.recv(65536)
        if not part:
            raise ConnectionError("the client closed before its request was whole")
        body += part
    return head, body
