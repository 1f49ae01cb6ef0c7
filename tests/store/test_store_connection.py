"""The database is opened through sqlean, with sqlite-vec, WAL, and tight permissions."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlean

import chatthy
from chatthy.errors import ChatthyError
from chatthy.store import Store, open_store


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_connection_is_sqlean(store):
    assert type(store.conn).__module__.startswith("sqlean")
    assert store.db.conn is store.conn


def test_sqlite_utils_is_bound_to_sqlean(store):
    import sqlite_utils.db
    import sqlite_utils.utils

    assert sqlite_utils.utils.sqlite3 is sqlean
    assert sqlite_utils.db.OperationalError is sqlean.OperationalError


def test_sqlite_vec_is_loaded(store):
    assert store.vec_loaded is True
    version = store.conn.execute("SELECT vec_version()").fetchone()[0]
    assert store.vec_version == version
    assert version.startswith("v")


def test_extension_loading_is_left_off(store):
    with pytest.raises(sqlean.OperationalError):
        store.conn.execute("SELECT load_extension('/nonexistent/lib')")


def test_pragmas(store):
    pragma = lambda name: store.conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 1  # NORMAL
    assert pragma("busy_timeout") == 5000


def test_files_are_private(tmp_path):
    path = tmp_path / "a" / "b" / "chatthy.db"
    with Store.open(path) as store:
        store.create_chat(store.profile("default").id, "x")  # makes sure -wal/-shm exist
        for suffix in ("", "-wal", "-shm"):
            assert _mode(f"{path}{suffix}") == 0o600, suffix
    assert _mode(tmp_path / "a") == 0o700
    assert _mode(tmp_path / "a" / "b") == 0o700


def test_existing_loose_file_is_tightened(tmp_path):
    path = tmp_path / "chatthy.db"
    with open_store(path):
        pass
    path.chmod(0o644)
    with open_store(path):
        assert _mode(path) == 0o600


def test_umask_is_restored(tmp_path):
    previous = os.umask(0o022)
    try:
        with open_store(tmp_path / "chatthy.db"):
            pass
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(previous)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "chatthy.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ChatthyError, match="cannot open database .*chatthy.db"):
        Store.open(path)


def test_missing_sqlite_vec_warns_and_carries_on(tmp_path, monkeypatch, caplog):
    import sqlite_vec

    def refuse(conn):
        raise sqlean.OperationalError("no extensions here")

    monkeypatch.setattr(sqlite_vec, "load", refuse)
    with caplog.at_level(logging.WARNING, logger="chatthy.store"):
        with Store.open(tmp_path / "chatthy.db") as store:
            assert store.vec_loaded is False
            assert store.vec_version is None
            assert store.profile("default").name == "default"
    assert "sqlite-vec could not be loaded" in caplog.text


def test_sqlite_utils_round_trip(store):
    store.db["x"].insert({"id": 1, "name": "a'b"}, pk="id")
    assert list(store.db["x"].rows) == [{"id": 1, "name": "a'b"}]
    store.db["x"].drop()
    store.db["x"].drop(ignore=True)
    store.db["x"].drop(ignore=True)
    assert "x" not in store.db.table_names()
    with store.db.atomic():
        store.db["y"].insert({"a": 1})
    assert store.db["y"].count == 1


def test_close_is_idempotent(tmp_path):
    store = Store.open(tmp_path / "chatthy.db")
    store.close()
    store.close()
    with pytest.raises(sqlean.ProgrammingError):
        store.conn.execute("SELECT 1")


def test_use_from_another_thread_is_refused(store):
    errors = []

    def run():
        try:
            store.list_profiles()
        except sqlean.ProgrammingError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(errors) == 1


def test_integrity_check(store):
    assert store.integrity_check() == "ok"


def test_importing_sqlite_utils_first_fails_loudly():
    code = "import sqlite_utils, chatthy.store"
    root = Path(chatthy.__file__).parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root
    )
    assert result.returncode != 0
    assert "import chatthy.store first" in result.stderr


# transactions


def test_transaction_rolls_back_everything(store, default_id):
    with pytest.raises(RuntimeError):
        with store.transaction():
            chat = store.create_chat(default_id, "half")
            store.add_message(chat.id, "user", "written")
            raise RuntimeError("interrupted")
    assert store.get_chat(default_id, "half") is None
    assert store.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    assert not store.conn.in_transaction


def test_nested_transaction_rolls_back_only_the_inner_block(store, default_id):
    with store.transaction():
        store.create_chat(default_id, "outer")
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.create_chat(default_id, "inner")
                raise RuntimeError("inner failed")
        assert store.get_chat(default_id, "inner") is None
    assert store.get_chat(default_id, "outer") is not None
    assert store.get_chat(default_id, "inner") is None


def test_transaction_commits(store, default_id):
    with store.transaction() as same:
        assert same is store
        store.create_chat(default_id, "kept")
    assert not store.conn.in_transaction
    assert store.get_chat(default_id, "kept") is not None


def test_transaction_rolls_back_on_base_exception(store, default_id):
    with pytest.raises(KeyboardInterrupt):
        with store.transaction():
            store.create_chat(default_id, "cancelled")
            raise KeyboardInterrupt
    assert store.get_chat(default_id, "cancelled") is None


def test_settings_round_trip(store):
    assert store.get_setting("calibration") is None
    assert store.get_setting("calibration", "1.0") == "1.0"
    store.set_setting("calibration", "1.07")
    store.set_setting("calibration", "1.08")
    assert store.get_setting("calibration") == "1.08"


def test_the_daemon_does_not_load_numpy_until_the_vector_store_needs_it():
    # sqlite_utils would import numpy (~60 ms, ~16 MB for the daemon's life) at its own import.
    code = ("import sys, chatthy.server.handlers, chatthy.server.daemon; print('numpy' in sys.modules); "
            "import numpy, chatthy.vdb.vector_index; print(sys.modules['numpy'] is numpy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
