"""``Store``: the daemon's one handle on the database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import sqlean

from . import chats, messages, personalities, profiles
from .connection import Connection, load_vec, open_connection, sqlite_utils, transaction
from .migrations import migrate
from .models import Chat, ChatSummary, Message, Personality, Profile

log = logging.getLogger("chatthy.store")


class Store:
    """The SQLite database, opened through sqlean, migrated, with sqlite-vec if possible.

    Synchronous, with one connection, used from one thread only: the daemon's
    event-loop thread. Every query here takes microseconds to a few
    milliseconds, so the loop never needs to wait on another thread, and one
    connection means one writer. sqlean enforces the thread (a call from
    another thread raises ProgrammingError).

    Open it with ``Store.open(path)``; use it as a context manager or call
    ``close()``. ``db`` (sqlite_utils.Database) and ``conn`` are the same
    connection, for code (search, workspaces) that owns its own tables.
    """

    def __init__(
        self, path: Path, conn: Connection, db: sqlite_utils.Database, vec_version: str | None
    ) -> None:
        self.path = path
        self.conn = conn
        self.db = db
        self.vec_version = vec_version
        self.vec_loaded = vec_version is not None
        self._closed = False

    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        conn = open_connection(path)
        try:
            # sqlite-vec before migrations: later migrations create vec0 tables.
            vec_version = load_vec(conn)
            # No plugins: whatever sqlite-utils plugins happen to be installed
            # have no business in chatthy's connection.
            db = sqlite_utils.Database(conn, execute_plugins=False)
            migrate(db)
        except BaseException:
            conn.close()
            raise
        return cls(path, conn, db, vec_version)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            # SQLite's advice for long-lived connections: refresh planner stats on close.
            self.conn.execute("PRAGMA optimize")
        except sqlean.Error as exc:  # shutting down: closing matters more than stats
            log.debug("PRAGMA optimize failed on close: %s", exc)
        finally:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {str(self.path)!r} vec={self.vec_version or 'no'}>"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error); nested blocks are savepoints."""
        with transaction(self.conn):
            yield self

    def integrity_check(self) -> str:
        """``"ok"``, or SQLite's list of problems, one per line."""
        rows = self.conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(row[0]) for row in rows)

    # settings: small daemon-wide state (e.g. token calibration), not user config

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # profiles

    def get_profile(self, name: str) -> Profile | None:
        return profiles.get_profile(self.conn, name)

    def profile(self, name: str) -> Profile:
        return profiles.profile(self.conn, name)

    def get_or_create_profile(self, name: str) -> Profile:
        return profiles.get_or_create_profile(self.conn, name)

    def list_profiles(self) -> list[Profile]:
        return profiles.list_profiles(self.conn)

    def create_profile(self, name: str) -> Profile:
        return profiles.create_profile(self.conn, name)

    def delete_profile(self, name: str) -> None:
        profiles.delete_profile(self.conn, name)

    # personalities

    def get_personality(self, profile_id: int, name: str) -> Personality | None:
        return personalities.get_personality(self.conn, profile_id, name)

    def set_personality(self, profile_id: int, name: str, prompt: str,
                        tools: list[str] | None = None) -> Personality:
        return personalities.set_personality(self.conn, profile_id, name, prompt, tools)

    def list_personalities(self, profile_id: int) -> list[Personality]:
        return personalities.list_personalities(self.conn, profile_id)

    def delete_personality(self, profile_id: int, name: str) -> None:
        personalities.delete_personality(self.conn, profile_id, name)

    # chats

    def get_chat(self, profile_id: int, name: str) -> Chat | None:
        return chats.get_chat(self.conn, profile_id, name)

    def get_chat_by_id(self, chat_id: int) -> Chat | None:
        return chats.get_chat_by_id(self.conn, chat_id)

    def require_chat(
        self, profile_id: int, name: str, *, profile_name: str | None = None
    ) -> Chat:
        return chats.require_chat(self.conn, profile_id, name, profile_name=profile_name)

    def create_chat(
        self,
        profile_id: int,
        name: str,
        *,
        personality: str | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> Chat:
        return chats.create_chat(
            self.conn, profile_id, name, personality=personality, provider=provider, model=model
        )

    def list_chats(self, profile_id: int, *, personality: str | None = None) -> list[ChatSummary]:
        return chats.list_chats(self.conn, profile_id, personality=personality)

    def rename_chat(self, profile_id: int, old: str, new: str) -> Chat:
        return chats.rename_chat(self.conn, profile_id, old, new)

    def delete_chat(self, profile_id: int, name: str) -> None:
        chats.delete_chat(self.conn, profile_id, name)

    def update_chat(self, chat_id: int, **fields: str | None) -> Chat:
        return chats.update_chat(self.conn, chat_id, **fields)

    def touch_chat(self, chat_id: int) -> None:
        chats.touch_chat(self.conn, chat_id)

    # messages

    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        tokens: int | None = None,
        provider: str | None = None,
        model: str | None = None,
        meta: dict | None = None,
    ) -> Message:
        return messages.add_message(
            self.conn, chat_id, role, content,
            status=status, tokens=tokens, provider=provider, model=model, meta=meta,
        )

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        status: str | None = None,
        tokens: int | None = None,
        usage: dict | None = None,
        error: str | None = None,
        meta: dict | None = None,
        finished: bool = False,
        edited: bool = False,
        duration_ms: int | None = None,
    ) -> None:
        messages.update_message(
            self.conn, message_id,
            content=content, status=status, tokens=tokens, usage=usage, error=error,
            meta=meta, finished=finished, edited=edited, duration_ms=duration_ms,
        )

    def get_message(self, message_id: int) -> Message | None:
        return messages.get_message(self.conn, message_id)

    def messages(self, chat_id: int) -> list[Message]:
        return messages.messages(self.conn, chat_id)

    def count_messages(self, chat_id: int) -> int:
        return messages.count_messages(self.conn, chat_id)

    def delete_message(self, message_id: int) -> None:
        messages.delete_message(self.conn, message_id)


def open_store(path: Path | str) -> Store:
    """Open (creating and migrating as needed) the database at ``path``."""
    return Store.open(path)
