"""chatthy's storage: one SQLite file, opened only by the daemon.

Import this package (or ``chatthy.store.connection``) before anything that
imports sqlite_utils: the connection module registers sqlean as the driver
sqlite-utils uses. See ``connection.py`` for why.
"""

from .connection import transaction
from .migrations import applied_migrations, migrate
from .models import (
    ROLES,
    STATUSES,
    Chat,
    ChatSummary,
    Message,
    Personality,
    Profile,
    now_iso,
)
from .store import Store, open_store

__all__ = [
    "ROLES",
    "STATUSES",
    "Chat",
    "ChatSummary",
    "Message",
    "Personality",
    "Profile",
    "Store",
    "applied_migrations",
    "migrate",
    "now_iso",
    "open_store",
    "transaction",
]
