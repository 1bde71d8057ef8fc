"""Raw-socket servers on 127.0.0.1 for hostile responses werkzeug cannot produce.

    with RawServer(slow_body(interval=0.05, size=40)) as server:
        url = server.url("/anything")
        ...
        assert server.hits == 1

A handler gets the connected socket and the raw request head (bytes up to the blank line) and
writes whatever it likes. Loops in handlers stop when the client goes away or the server stops.
An optional `ssl_context` makes it a TLS server (the handshake happens in the connection thread).
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Self

Handler = Callable[[socket.socket, bytes, threading.Event], None]


class RawServer:
    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.hits = 0
        self.heads: list[bytes] = []
        self.handshake_failures = 0
        self.broken = 0  # connections the client cut while the handler was still writing
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._workers: list[threading.Thread] = []

    # lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self._thread.join(2)
        for worker in self._workers:
            worker.join(2)
        self._listener.close()

    def wait(self, timeout: float = 5.0) -> None:
        """Wait for the connection handlers to finish (so `broken` is final)."""
        for worker in list(self._workers):
            worker.join(timeout)

    def url(self, path: str = "/", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    # serving ---------------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._workers.append(worker)
            worker.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2)
            if self.ssl_context is not None:
                try:
                    conn = self.ssl_context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    with self._lock:
                        self.handshake_failures += 1
                    return
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            with self._lock:
                self.hits += 1
                self.heads.append(head)
            try:
                self.handler(conn, head, self.stopped)
            except OSError:
                # The client went away: that is what most of these tests provoke.
                with self._lock:
                    self.broken += 1
        except OSError:
            pass
        finally:
            conn.close()


# --- handlers -------------------------------------------------------------------------------


def fixed(status: int = 200, body: bytes = b"ok", headers: dict[str, str] | None = None) -> Handler:
    """A plain response with Content-Length."""

    def handle(conn: socket.socket, head: bytes, stopped: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return handle


def slow_body(interval: float, size: int) -> Handler:
    """Headers at once, then one byte every `interval` seconds, `size` bytes in all."""

    def handle(conn: socket.socket, head: bytes, stopped: threading.Event) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {size}\r\n"
                     "Connection: close\r\n\r\n".encode())
        for _ in range(size):
            if stopped.wait(interval):
                return
            conn.sendall(b"x")

    return handle


def slow_headers(interval: float, count: int) -> Handler:
    """A status line, then one header byte every `interval` seconds (slowloris on the head)."""

    def handle(conn: socket.socket, head: bytes, stopped: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(count):
            if stopped.wait(interval):
                return
            conn.sendall(b"a")
        conn.sendall(b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    return handle


def endless(chunk: bytes = b"z" * 65536, limit: int = 64 << 20) -> Handler:
    """A body without length that does not end (until `limit` bytes, so a broken client fails
    instead of hanging)."""

    def handle(conn: socket.socket, head: bytes, stopped: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        sent = 0
        while sent < limit and not stopped.is_set():
            conn.sendall(chunk)
            sent += len(chunk)

    return handle


def gzip_bomb_bytes(size: int = 10 * 1000 * 1000) -> bytes:
    """`size` zero bytes, gzip-compressed (10 MB → about 10 KB)."""
    return gzip.compress(b"\0" * size, compresslevel=9)


def gzip_bomb(status: int = 200, location: str | None = None, bomb: bytes | None = None) -> Handler:
    """A gzip-encoded body of zeros; with `location`, sent on a redirect."""
    payload = gzip_bomb_bytes() if bomb is None else bomb

    def handle(conn: socket.socket, head: bytes, stopped: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", "Content-Encoding: gzip",
                 f"Content-Length: {len(payload)}", "Connection: close"]
        if location:
            lines.append(f"Location: {location}")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)

    return handle
