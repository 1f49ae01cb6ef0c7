"""One fake provider and one daemon (with the local embedder, for ``--rag``) per fork test module.

Tests use their own chat names and clear the fake's script (``fresh``)
before they script it, so they share the daemon.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import daemon_home, db_rows
from tests.fakes.provider_server import FakeProviderServer

REGENERATED = ("id", "chat_id")  # per copy; everything else must be the same


@pytest.fixture(scope="module")
def ffake():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(scope="module")
def fhome(ffake):
    with daemon_home(ffake) as home:
        yield home


@pytest.fixture
def fresh(ffake):
    ffake.clear()
    return ffake


def show(home, chat: str) -> dict:
    return json.loads(home.run("chat", "show", chat, "--json", check=True).stdout)


def comparable(shown: dict) -> dict:
    """``chat show --json`` but for what a copy renumbers (ids), its name and its own times."""
    out = {k: v for k, v in shown.items() if k not in ("name", "generating", "created", "updated")}
    out["messages"] = [{k: v for k, v in m.items() if k not in REGENERATED} for m in shown["messages"]]
    return out


def calls_of(home, chat: str) -> list[dict]:
    """``tools calls CHAT --json`` without the ids (a copy's are its own)."""
    calls = json.loads(home.run("tools", "calls", chat, "--json", check=True).stdout)
    return [{k: v for k, v in c.items() if k not in ("id", "message_id")} for c in calls]


def stored_images(home, chat: str) -> list[tuple]:
    """(message position in the chat, attachment position, name, attachment row id, sha256, bytes)."""
    rows = db_rows(home, """
        SELECT m.id, ma.position, ma.name, a.id, a.sha256, a.data
        FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
        JOIN messages m ON m.id = ma.message_id JOIN chats c ON c.id = m.chat_id
        WHERE c.name = ? ORDER BY m.id, ma.position""", (chat,))
    ids = [r[0] for r in db_rows(home, "SELECT m.id FROM messages m JOIN chats c ON c.id = m.chat_id"
                                       " WHERE c.name = ? ORDER BY m.id", (chat,))]
    return [(ids.index(r[0]), *r[1:]) for r in rows]


def workspace_of(home, chat: str) -> list[list]:
    """The chat's own workspace files, every stored column but the ids."""
    rows = db_rows(home, """
        SELECT w.profile_id, w.name, w.kind, w.source, w.title, w.content, w.meta, w.tokens, w.encoding,
               w.benched, w.created, w.updated
        FROM workspace w JOIN chats c ON c.id = w.chat_id WHERE c.name = ? ORDER BY w.id""", (chat,))
    return [list(r) for r in rows]


def tool_choice(home, chat: str) -> list[tuple]:
    return db_rows(home, "SELECT t.tools FROM chat_tools t JOIN chats c ON c.id = t.chat_id WHERE c.name = ?",
                   (chat,))


def completions(fake) -> list:
    return [r for r in fake.requests if r.method == "POST"]
