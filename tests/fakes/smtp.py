"""A small SMTP server on 127.0.0.1 for mail tests (the stdlib's smtpd is gone from Python 3.12).

    with FakeSmtp() as smtp:            # app config: MAIL_SERVER=127.0.0.1, MAIL_PORT=smtp.port
        smtp.gate.clear()               # hold every new session before its 220 greeting
        ...
        smtp.gate.set()
        assert smtp.received.wait(5)
        smtp.messages[-1]               # (envelope recipients, message text)

`FakeSmtp(greeting_delay=0.05)` answers every session 50 ms late, like a relay across a network.

It speaks the part of RFC 5321 that Python's smtplib uses without TLS or AUTH: the 220 greeting,
EHLO/HELO, MAIL FROM, RCPT TO, DATA (ended by <CRLF>.<CRLF>, dot-stuffing undone), RSET, NOOP, QUIT.
"""

from __future__ import annotations

import socketserver
import threading
import time
from typing import Self


class FakeSmtp:
    def __init__(self, greeting_delay: float = 0.0) -> None:
        self.greeting_delay = greeting_delay  # seconds, like a remote relay's latency (bench)
        self.gate = threading.Event()
        self.gate.set()
        self.received = threading.Event()
        self.messages: list[tuple[list[str], str]] = []
        self.sessions = 0
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake.sessions += 1
                if not fake.gate.wait(10):
                    return
                if fake.greeting_delay:
                    time.sleep(fake.greeting_delay)
                self._reply("220 fake.smtp.test ESMTP ready")
                recipients: list[str] = []
                while True:
                    line = self.rfile.readline(1000)
                    if not line:
                        return
                    verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self._reply("250-fake.smtp.test", "250 8BITMIME")
                    elif verb in ("HELO", "NOOP", "MAIL"):
                        self._reply("250 OK")
                    elif verb == "RSET":
                        recipients = []
                        self._reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                        self._reply("250 OK")
                    elif verb == "DATA":
                        self._reply("354 End data with <CR><LF>.<CR><LF>")
                        fake.messages.append((recipients, self._data()))
                        recipients = []
                        self._reply("250 OK queued")
                        fake.received.set()
                    elif verb == "QUIT":
                        self._reply("221 Bye")
                        return
                    else:
                        self._reply("502 Command not implemented")

            def _data(self) -> str:
                lines = []
                while True:
                    line = self.rfile.readline(100_000)
                    if not line or line == b".\r\n":
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return b"".join(lines).decode("utf-8", "replace")

            def _reply(self, *lines: str) -> None:
                self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
