"""Reading a source spec on the client: a local file, stdin, or a URL to pass on.

Standard library only (the CLI and the REPL import it). Over TCP the daemon
cannot see the client's disk, so the client reads local files and sends their
bytes; URLs go to the daemon as they are, and the daemon fetches them.

    upload = read_spec("report.pdf#pages=3-7")
    client.call("source.read", **upload.params())
    client.call("ws.load", profile=…, chat=…, **upload.params())
"""

from __future__ import annotations

import base64
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from chatthy.errors import BadRequest, NotFound, TooLarge
from chatthy.sources import is_remote, split_pages_spec
from chatthy.sources.textfile import human_size

# What a client sends at most: base64 makes it 4/3 larger, and a frame holds
# 32 MiB. The daemon applies its own (smaller, configurable) limit.
CLIENT_MAX = 20 * 1024 * 1024
# Frames above this need an authenticated connection first (the daemon caps
# unauthenticated first frames at 64 KiB): see ``needs_hello``.
SMALL_FRAME = 48 * 1024


@dataclass
class Upload:
    """One source as the daemon's ``source.read``/``ws.load`` want it."""

    name: str | None  # None for a URL not named by the user: the daemon names it
    source: str  # absolute path, "-" for stdin, or the URL
    pages: str | None = None
    data: bytes | None = None
    url: str | None = None

    @property
    def remote(self) -> bool:
        return self.url is not None

    def params(self) -> dict:
        out: dict = {"source": self.source}
        if self.name is not None:
            out["name"] = self.name
        if self.pages:
            out["pages"] = self.pages
        if self.url is not None:
            out["url"] = self.url
        else:
            out["content_b64"] = base64.b64encode(self.data or b"").decode("ascii")
        return out

    @property
    def size(self) -> int:
        return len(self.data or b"")


def read_spec(spec: str, *, name: str | None = None, stdin=None, max_bytes: int = CLIENT_MAX) -> Upload:
    """Read ``spec``: ``-`` (stdin), a URL (not read here), or a path with an
    optional ``#pages=3-7`` suffix."""
    spec = spec.strip()
    if not spec:
        raise BadRequest("empty source: give a path, a URL or - for stdin")
    if is_remote(spec):
        url, pages = split_pages_spec(spec)
        return Upload(name, url, pages, url=url)
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(f"stdin is larger than {human_size(max_bytes)}")
        return Upload(name or "stdin", "-", None, data=data)
    path_text, pages = spec, None
    if not os.path.exists(os.path.expanduser(spec)):
        path_text, pages = split_pages_spec(spec)
    path = Path(os.path.expanduser(path_text)).absolute()
    return Upload(name or path.name, str(path), pages, data=read_file(path, max_bytes))


def read_file(path: Path, max_bytes: int = CLIENT_MAX) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise BadRequest(f"{path} is a directory: give the files in it one by one")
        if size > max_bytes:
            raise TooLarge(f"{path} is {human_size(size)}; a source may be at most {human_size(max_bytes)}")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except PermissionError:
        raise BadRequest(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # grew while we read it, or a device
        raise TooLarge(f"{path} is larger than {human_size(max_bytes)}")
    return data


def needs_hello(uploads: list[Upload]) -> bool:
    """True when a request carrying these would be too big as a connection's first frame."""
    return sum(u.size for u in uploads) * 4 // 3 > SMALL_FRAME
