"""A real web site on 127.0.0.1 for the source tests: pages, redirects, errors,
slow answers, big bodies, PDFs, and a stand-in for YouTube's endpoints.

    with Site() as site:
        site.page("/a", "<html>…", content_type="text/html")
        site.url("/a")
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WAL explained | Example Docs</title></head>
<body>
<nav><a href="/">Home</a> · <a href="/blog">Blog</a> · <a href="/about">About us</a></nav>
<div class="sidebar"><ul><li><a href="/x">Related: backups</a></li><li><a href="/y">Related: vacuum</a></li></ul></div>
<article>
<h1>Write-ahead logging in SQLite</h1>
<p>SQLite's write-ahead log lets readers keep reading while a single writer appends
to the log. This article explains how to turn it on and what it changes for you.</p>
<h2>Turning it on</h2>
<p>Run the pragma once per database file. The setting is persistent: every later
connection, in any process, uses the write-ahead log too.</p>
<pre><code class="language-python">import sqlite3
conn = sqlite3.connect("app.db")
conn.execute("PRAGMA journal_mode=WAL")  # returns 'wal'
config = {"retries": 3, "template": "{{not_a_var}}"}
</code></pre>
<h2>Rollback journal or WAL?</h2>
<table>
<thead><tr><th>Mode</th><th>Readers block the writer</th><th>Files</th></tr></thead>
<tbody>
<tr><td>DELETE</td><td>yes</td><td>db, journal</td></tr>
<tr><td>WAL</td><td>no</td><td>db, -wal, -shm</td></tr>
</tbody></table>
<h3>Checkpoints</h3>
<p>The log is copied back into the database by checkpoints, which SQLite runs
automatically when the log reaches a thousand pages; <code>PRAGMA wal_checkpoint</code>
runs one by hand.</p>
</article>
<footer>© 2026 Example Docs · Privacy · Terms · Cookie settings</footer>
</body></html>
"""


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    chunks: int = 0  # >0: send the body this many times, chunked, without a length


@dataclass
class Video:
    """What the YouTube stand-in knows about one video."""

    title: str = "A talk about SQLite"
    author: str = "Example Channel"
    # (language code, name, generated, [(start, duration, text), ...])
    tracks: list = field(default_factory=list)
    playable: bool = True


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.videos: dict[str, Video] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    # -- content ---------------------------------------------------------------
    def page(self, path: str, body: str | bytes, *, status: int = 200, content_type: str = "text/html; charset=utf-8",
             headers: dict | None = None, delay: float = 0.0, chunks: int = 0) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        h = {"Content-Type": content_type, **(headers or {})}
        self.routes[path] = Route(status, data, h, delay, chunks)
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        self.routes[path] = Route(status, b"", {"Location": to})
        return self.url(path)

    def url(self, path: str) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    # -- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802
                site._serve(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                site._serve(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # wakes slow routes
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- serving -------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append((method, h.path, dict(h.headers)))
        if parts.path in self.routes:
            return self._route(h, self.routes[parts.path])
        handler = {"/watch": self._yt_watch, "/youtubei/v1/player": self._yt_player,
                   "/api/timedtext": self._yt_timedtext, "/oembed": self._yt_oembed}.get(parts.path)
        if handler is not None:
            return handler(h, parse_qs(parts.query), body)
        self._send(h, 404, b"<h1>Not found</h1>", {"Content-Type": "text/html"})

    def _route(self, h, route: Route) -> None:
        if route.delay and self._stop.wait(route.delay):
            return
        if route.chunks:
            h.send_response(route.status)
            for k, v in route.headers.items():
                h.send_header(k, v)
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            try:
                for _ in range(route.chunks):
                    h.wfile.write(f"{len(route.body):x}\r\n".encode() + route.body + b"\r\n")
                h.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client hung up once it had enough: that is the point
            return
        self._send(h, route.status, route.body, route.headers)

    @staticmethod
    def _send(h, status: int, body: bytes, headers: dict) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            h.wfile.write(body)
        except OSError:
            pass

    # -- the YouTube stand-in: the endpoints youtube-transcript-api 1.2 calls ----------
    def _yt_watch(self, h, query, body) -> None:
        video = query.get("v", [""])[0]
        html = ('<html><head><title>video</title></head><body><script>var ytcfg = {'
                f'"INNERTUBE_API_KEY": "fake-key-{video}"' '};</script></body></html>')
        self._send(h, 200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _yt_player(self, h, query, body) -> None:
        request = json.loads(body or b"{}")
        video_id = request.get("videoId", "")
        video = self.videos.get(video_id)
        if video is None or not video.playable:
            data = {"playabilityStatus": {"status": "ERROR", "reason": "This video is unavailable"}}
        else:
            data = {"playabilityStatus": {"status": "OK"}}
            if video.tracks:
                data["captions"] = {"playerCaptionsTracklistRenderer": {
                    "captionTracks": [
                        {"baseUrl": f"https://www.youtube.com/api/timedtext?v={video_id}&lang={code}",
                         "name": {"runs": [{"text": name}]}, "languageCode": code,
                         **({"kind": "asr"} if generated else {}), "isTranslatable": False}
                        for code, name, generated, _ in video.tracks],
                    "translationLanguages": [],
                }}
        self._send(h, 200, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def _yt_timedtext(self, h, query, body) -> None:
        video = self.videos[query["v"][0]]
        lines = next(t[3] for t in video.tracks if t[0] == query["lang"][0])
        items = "".join(f'<text start="{s}" dur="{d}">{_xml(text)}</text>' for s, d, text in lines)
        xml = f'<?xml version="1.0" encoding="utf-8" ?><transcript>{items}</transcript>'
        self._send(h, 200, xml.encode(), {"Content-Type": "text/xml; charset=utf-8"})

    def _yt_oembed(self, h, query, body) -> None:
        url = query.get("url", [""])[0]
        video = self.videos.get(parse_qs(urlsplit(url).query).get("v", [""])[0])
        if video is None:
            return self._send(h, 404, b"Not Found", {"Content-Type": "text/plain"})
        data = {"title": video.title, "author_name": video.author, "type": "video"}
        self._send(h, 200, json.dumps(data).encode(), {"Content-Type": "application/json"})


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def youtube_session(site: Site):
    """A requests Session whose calls to https://www.youtube.com go to ``site``:
    youtube-transcript-api's own HTTP boundary (its ``http_client`` argument)."""
    import requests
    from requests.adapters import HTTPAdapter

    base = site.url("")

    class ToSite(HTTPAdapter):
        def send(self, request, **kw):
            request.url = base + request.url[len("https://www.youtube.com"):]
            return super().send(request, **kw)

    session = requests.Session()
    session.mount("https://www.youtube.com", ToSite())
    return session


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
