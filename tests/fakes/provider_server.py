"""A real HTTP server on 127.0.0.1 that speaks both provider APIs.

The providers under test use the official SDKs, so the fake must be faithful
at the HTTP level: keep-alive HTTP/1.1, chunked Server-Sent Events flushed as
they are produced, each API's error shapes and headers, and real TCP failures
(RST mid-stream, silence that trips a read timeout).

Routes: ``POST /v1/chat/completions`` (OpenAI), ``POST /v1/messages``
(Anthropic), ``GET /v1/models`` (Anthropic's shape when the request carries an
``anthropic-version`` header, OpenAI's otherwise).

Standalone, for benchmarks and manual use::

    python -m tests.fakes.provider_server --port 0     # prints "READY <url>"
    python -m tests.fakes.provider_server --chunk-delay 0.02   # echo paced like a model
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

from . import anthropic_stream, openai_stream
from .replies import (
    HttpError, Malformed, RecordedRequest, Reply, Reset, ResetConnection, Sleep, Stall, Step,
    StreamError, Text, ToolCalls, Truncated, default_reply,
)

DEFAULT_MODELS = ("fake-model-large", "fake-model-small")
# Zero-delay chunks are written in batches of about this size: the client
# cannot tell the difference, and 10,000-chunk benchmarks stay cheap.
_BATCH_BYTES = 16 * 1024
_REPLY_TYPES = (Text, ToolCalls, HttpError, StreamError, Reset, Truncated, Malformed, Stall)


class FakeProviderServer:
    """The fake provider: ``with FakeProviderServer() as fake: ...``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = DEFAULT_MODELS, chunk_delay: float = 0.0,
                 stamp: bool = False) -> None:
        self.host = host
        self.port = port
        self.models = list(models)
        self.chunk_delay = chunk_delay  # seconds between chunks of the unscripted (echo) reply
        self.stamp = stamp  # the echo's chunks carry the time they were sent (replies.Text.stamp)
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> FakeProviderServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), _Handler, fake=self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake-provider-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes stalled and delayed streams
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            # Handlers idle on keep-alive connections block in a read: wake them.
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    # -- scripting and inspection -------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Queue replies, consumed one per completion request (FIFO)."""
        for reply in replies:
            if not isinstance(reply, _REPLY_TYPES):
                raise TypeError(f"not a fake reply: {reply!r}")
        with self._lock:
            self._replies.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def pending_replies(self) -> int:
        with self._lock:
            return len(self._replies)

    def clear(self) -> None:
        """Forget recorded requests and queued replies."""
        with self._lock:
            self._requests.clear()
            self._replies.clear()

    # -- used by the handler -------------------------------------------------
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, body: Any) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        reply = default_reply(body)
        reply.delay = self.chunk_delay
        reply.stamp = self.stamp
        return reply

    def _track(self, conn: socket.socket, active: bool) -> None:
        with self._lock:
            if active:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type, *, fake: FakeProviderServer) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away is normal for a fake under failure tests.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 60  # an idle keep-alive connection is dropped after this

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must leave at once, not wait for Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    # -- routing -------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        path, api = self._route()
        self._record(None)
        if path in ("/v1/models", "/models"):
            self._send_json(200, api.models_body(self.server.fake.models))
        else:
            self._send_json(404, api.error_body(404, f"no route GET {path}"))

    def do_POST(self) -> None:  # noqa: N802
        path, api = self._route()
        try:
            body = self._read_json()
        except ValueError as exc:
            self._record(None)
            self._send_json(400, api.error_body(400, f"request body is not JSON: {exc}"))
            return
        self._record(body)
        if path == "/v1/chat/completions":
            self._complete(openai_stream, body)
        elif path == "/v1/messages":
            self._complete(anthropic_stream, body)
        else:
            self._send_json(404, api.error_body(404, f"no route POST {path}"))

    def _route(self) -> tuple[str, ModuleType]:
        path = self.path.split("?", 1)[0]
        if path == "/v1/messages" or "anthropic-version" in self.headers:
            return path, anthropic_stream
        return path, openai_stream

    def _read_json(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.fake._record(RecordedRequest(self.command, self.path, headers, body))

    # -- replies -------------------------------------------------------------
    def _complete(self, api: ModuleType, body: Any) -> None:
        if not isinstance(body, dict):
            self._send_json(400, api.error_body(400, "request body must be a JSON object"))
            return
        problem = api.image_problem(body)
        if problem is not None:  # as the real APIs do: a malformed image block is a 400
            self._send_json(400, api.error_body(400, problem))
            return
        reply = self.server.fake._next_reply(body)
        if isinstance(reply, HttpError):
            status, headers, data = api.http_error(reply)
            if status == 429 and not any(k.lower().startswith("retry-after") for k in headers):
                headers["retry-after"] = "0.1"
            self._send_bytes(status, data, headers)
        elif body.get("stream"):
            self._send_stream(api.stream_steps(reply, body))
        elif isinstance(reply, Reset):
            self._reset()
        elif isinstance(reply, (Malformed, Truncated)):
            self._send_bytes(200, b'{"id": "fake", "choi')
        elif isinstance(reply, StreamError):
            self._send_json(500, api.error_body(500, reply.message, reply.error_type))
        else:
            if isinstance(reply, Stall) and self.server.fake._stopping.wait(reply.seconds):
                self._reset()
                return
            self._send_json(200, api.json_response(reply, body))

    def _send_json(self, status: int, obj: Any) -> None:
        self._send_bytes(status, json.dumps(obj).encode())

    def _send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_fake")
        self.send_header("request-id", "req_fake")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, steps: Iterable[Step]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req_fake")
        self.send_header("request-id", "req_fake")
        self.end_headers()
        pending = bytearray()
        try:
            for step in steps:
                if isinstance(step, bytes):
                    pending += step
                    if len(pending) >= _BATCH_BYTES:
                        self._write_chunk(pending)
                    continue
                self._write_chunk(pending)
                if isinstance(step, ResetConnection):
                    self._reset()
                    return
                if isinstance(step, Sleep) and self.server.fake._stopping.wait(step.seconds):
                    self._reset()
                    return
            self._write_chunk(pending)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client went away mid-stream

    def _write_chunk(self, pending: bytearray) -> None:
        if pending:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(pending), pending))
            pending.clear()

    def _reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send an RST, not a FIN."""
        self.close_connection = True
        conn = self.connection
        self.server.fake._track(conn, False)
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # detach() so the makefile() objects cannot keep the fd open past this point.
            os.close(conn.detach())
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI + Anthropic provider server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunk-delay", type=float, default=0.0, metavar="SECONDS",
                        help="pace the echo reply like a model: this long between chunks")
    parser.add_argument("--stamp", action="store_true",
                        help="start each echo chunk with '@<monotonic ns> ', the time it was sent")
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with FakeProviderServer(args.host, args.port, chunk_delay=args.chunk_delay,
                            stamp=args.stamp) as fake:
        print(f"READY {fake.url}", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
