"""One fake provider and one daemon (with the local embedder, for ``--rag``) per test module.

Tests use their own chat names and clear the fake's script (``fresh``)
before they start, so they share the daemon.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
import zlib

import pytest

from tests.conftest import make_home, running_daemon
from tests.fakes.provider_server import FakeProviderServer

# Small limits, so that tests can cross them with small files.
EXTRA_CONFIG = """
[images]
max_mb = 0.05
max_per_message = 2
"""


def png(width: int, height: int, padding: int = 0, grey: int = 0x80) -> bytes:
    """A real PNG; ``padding`` bytes after IEND make a big file, ``grey`` a different one."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([grey]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"") + b"\x00" * padding)


@pytest.fixture(scope="module")
def xfake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def xhome(xfake):
    home = make_home(xfake)
    with (home.config_dir / "config.toml").open("a") as fh:
        fh.write(EXTRA_CONFIG)
    try:
        with running_daemon(home):
            yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture
def fresh(xfake):
    xfake.clear()
    return xfake


def db_rows(home, sql: str, args=()) -> list[tuple]:
    """Read the daemon's database directly (read-only; WAL lets it while the daemon writes)."""
    db = sqlite3.connect(f"file:{home.database}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def show(home, chat: str, *profile: str) -> dict:
    return json.loads(home.run(*profile, "chat", "show", chat, "--json", check=True).stdout)


def export(home, chat: str, *args: str) -> str:
    return home.run("chat", "export", chat, *args, check=True).stdout


def completions(fake) -> list:
    return [r for r in fake.requests if r.method == "POST"]
