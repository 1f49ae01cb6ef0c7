"""Opening chatthy's SQLite file: sqlean, sqlite-vec, pragmas, permissions.

This is the one place that decides which SQLite chatthy runs on. sqlean
(sqlean-py) bundles a SQLite that can load extensions on Linux and macOS, where
many Pythons' own ``sqlite3`` cannot. sqlite-utils picks its driver when it is
first imported: it prefers a module named ``pysqlite3`` and falls back to the
standard library. So ``sqlean`` is registered under that name *before*
sqlite_utils is imported anywhere; otherwise sqlite-utils catches the standard
library's exception classes while our connection raises sqlean's, and calls
such as ``table.drop(ignore=True)`` fail.

Every other module of chatthy that needs sqlite_utils gets it from here
(``from chatthy.store.connection import sqlite_utils``) or imports
``chatthy.store`` first.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import sqlean
import sqlean.dbapi2

from chatthy.errors import ChatthyError

log = logging.getLogger("chatthy.store")


def _register_sqlean() -> None:
    loaded = sys.modules.get("sqlite_utils.utils")
    if loaded is not None and getattr(loaded, "sqlite3", None) is not sqlean:
        # Too late to fix quietly: sqlite-utils has bound the other driver's
        # exception classes. Failing here points at the import that raced us.
        raise ImportError(
            "sqlite_utils was imported before chatthy.store.connection and is "
            "bound to another SQLite driver; import chatthy.store first"
        )
    sys.modules["pysqlite3"] = sqlean
    sys.modules["pysqlite3.dbapi2"] = sqlean.dbapi2


_register_sqlean()


def _import_sqlite_utils():
    """sqlite_utils, imported with numpy and pandas out of its sight.

    It imports both, where installed, when it is imported, only to map their
    scalar types to column types. chatthy never hands it either (vectors are
    stored as bytes, through SQL), and numpy alone cost the daemon ~60 ms of
    every start and ~16 MB for its whole life, long before (or without) the
    vector store needing it; the vector store imports numpy itself.
    """
    hidden = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # "import numpy" raises ImportError meanwhile
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()  # after the registration above

Connection = sqlean.Connection

BUSY_TIMEOUT_MS = 5000
_savepoint_ids = itertools.count(1)


def open_connection(path: Path | str) -> Connection:
    """Open (creating if needed) the database at ``path``, configured for chatthy.

    The parent directory is created 0700 and the file 0600: the database holds
    every conversation the user has had. SQLite creates ``-wal`` and ``-shm``
    with the main file's mode, so tightening the main file covers them too.
    """
    path = Path(path)
    # umask is process-wide; this runs once at daemon start-up, before any
    # other thread could be creating files.
    old_umask = os.umask(0o077)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # isolation_level=None: the driver never opens transactions behind our
        # back; transaction() below (and sqlite-utils' atomic()) open them.
        conn = sqlean.connect(str(path), isolation_level=None)
        try:
            _configure(conn, path)
        except BaseException:
            conn.close()
            raise
    finally:
        os.umask(old_umask)
    _tighten_modes(path)
    return conn


def _configure(conn: Connection, path: Path) -> None:
    try:
        # busy_timeout first, so that switching to WAL waits for another
        # process (a backup, the sqlite3 shell) instead of failing at once.
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlean.DatabaseError as exc:
        raise ChatthyError(f"cannot open database '{path}': {exc}") from exc
    if str(mode).lower() != "wal":
        # Some file systems (network mounts) refuse WAL; SQLite still works.
        log.warning("database %s: journal_mode is %r, not WAL", path, mode)


def _tighten_modes(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        try:
            mode = candidate.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            candidate.chmod(0o600)


def load_vec(conn: Connection) -> str | None:
    """Load sqlite-vec into ``conn``; its version, or None (with a warning)."""
    try:
        import sqlite_vec

        conn.enable_load_extension(True)
        try:
            sqlite_vec.load(conn)
        finally:
            # Leave loading off so SQL cannot call load_extension() on a path.
            conn.enable_load_extension(False)
        return str(conn.execute("SELECT vec_version()").fetchone()[0])
    except Exception as exc:  # noqa: BLE001  any failure means: no sqlite-vec
        log.warning(
            "sqlite-vec could not be loaded (%s); vector search falls back to brute force",
            exc,
        )
        return None


@contextlib.contextmanager
def transaction(conn: Connection) -> Iterator[None]:
    """Run the block in a transaction; nested blocks use savepoints.

    The outer level is ``BEGIN IMMEDIATE``: it takes the write lock up front, so
    a competing writer makes us wait (busy_timeout) at the start rather than
    fail halfway through. Any exception, including cancellation, rolls back.
    """
    if conn.in_transaction:
        name = f"chatthy_sp{next(_savepoint_ids)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            # Some errors (SQLITE_FULL, RAISE(ROLLBACK)) already ended the
            # whole transaction; rolling back again would hide the real error.
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
