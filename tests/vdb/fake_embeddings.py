"""A real OpenAI-compatible ``POST /v1/embeddings`` server on 127.0.0.1.

Vectors are a hashed bag of words (``DIMENSION`` wide, not normalised: the
client must normalise), so texts sharing words are near and the results are
deterministic. ``fail_next(status, message)`` makes the next request fail
with OpenAI's error shape; ``requests`` records every body.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMENSION = 48


def bag_of_words(text: str, dimension: int = DIMENSION) -> list[float]:
    vector = [0.0] * dimension
    for word in re.findall(r"\w+", text.lower()):
        h = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
        vector[h % dimension] += 1.0 if (h >> 16) & 1 else -1.0
    vector[0] += 0.01  # never the zero vector
    return vector


class FakeEmbeddings:
    def __init__(self, dimension: int = DIMENSION) -> None:
        self.dimension = dimension
        self.requests: list[dict] = []
        self.auth: list[str | None] = []
        self._failures: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.auth.append(self.headers.get("authorization"))
                    failure = fake._failures.pop(0) if fake._failures else None
                if self.path != "/v1/embeddings":
                    return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                if failure is not None:
                    status, message = failure
                    return self._send(status, {"error": {"message": message, "type": "server_error"}})
                inputs = body.get("input")
                if isinstance(inputs, str):
                    inputs = [inputs]
                data = [{"object": "embedding", "index": i, "embedding": bag_of_words(t, fake.dimension)}
                        for i, t in enumerate(inputs)]
                data.reverse()  # servers may answer out of order: the client must sort by index
                self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                                 "usage": {"prompt_tokens": 1, "total_tokens": 1}})

            def _send(self, status: int, payload: dict) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail_next(self, status: int, message: str, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, message)] * times)

    def __enter__(self) -> FakeEmbeddings:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
