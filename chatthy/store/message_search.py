"""Full-text search over the messages of a profile's chats (``chatthy chat search``).

What the user types is data, not FTS5 syntax: every word becomes a quoted
term, so ``c++``, ``"don't"``, ``NOT`` or ``col:umn`` search for themselves
instead of failing to parse. Words in double quotes are a phrase; a word
ending in ``*`` matches as a prefix. All terms must appear. Hits come best
first (bm25), newest first among equals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite3 import Connection

# Private-use characters mark the matches inside a snippet: text is unlikely to
# hold them, and one that did would only shift its highlights.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKERS = re.compile(f"([{_OPEN}{_CLOSE}])")
SNIPPET_TOKENS = 16
_CONTROLS_TO_SPACE = {ch: " " for ch in (*range(0x20), 0x7F)}


@dataclass(frozen=True)
class Hit:
    message_id: int
    chat: str
    role: str
    created: str
    snippet: str  # the text around the matches, on one line
    highlights: list[tuple[int, int]]  # [start, end) of each match in ``snippet``

    def to_dict(self) -> dict:
        return {"message_id": self.message_id, "chat": self.chat, "role": self.role, "created": self.created,
                "snippet": self.snippet, "highlights": [list(span) for span in self.highlights]}


def fts_query(text: str) -> str:
    """The FTS5 query for what the user typed; ValueError if it has no words."""
    # A NUL would end the query string inside SQLite ("unterminated string");
    # control characters are never part of a word anyway.
    text = text.translate(_CONTROLS_TO_SPACE)
    terms: list[str] = []
    for phrase, word in _split(text):
        if phrase is not None:
            if _searchable(phrase):
                terms.append(_quote(phrase))
            continue
        body = word.rstrip("*")
        if _searchable(body):  # "-" or "*" alone: nothing the index holds
            terms.append(_quote(body) + ("*" if body != word else ""))
    if not terms:
        raise ValueError("nothing to search for: give some words")
    return " ".join(terms)


def _split(text: str) -> list[tuple[str | None, str]]:
    """(phrase, None) for "quoted words", (None, word) for the rest; an unclosed quote runs to the end."""
    out: list[tuple[str | None, str]] = []
    rest = text
    while rest:
        before, quote, after = rest.partition('"')
        out.extend((None, word) for word in before.split())
        if not quote:
            break
        phrase, _, rest = after.partition('"')
        out.append((phrase, ""))
    return out


def _searchable(term: str) -> bool:
    # The index (unicode61) keeps letters and digits only; a term without any
    # would be an empty phrase.
    return any(ch.isalnum() for ch in term)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_messages(conn: Connection, profile_id: int, query: str, *, chat_id: int | None = None,
                    role: str | None = None, limit: int = 20) -> list[Hit]:
    match = fts_query(query)
    sql = ("SELECT m.id, c.name, m.role, m.created, snippet(messages_fts, 0, ?, ?, '…', ?)"
           " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN chats c ON c.id = m.chat_id"
           " WHERE messages_fts MATCH ? AND c.profile_id = ?")
    args: list = [_OPEN, _CLOSE, SNIPPET_TOKENS, match, profile_id]
    if chat_id is not None:
        sql += " AND m.chat_id = ?"
        args.append(chat_id)
    if role is not None:
        sql += " AND m.role = ?"
        args.append(role)
    sql += " ORDER BY bm25(messages_fts), m.id DESC LIMIT ?"
    args.append(limit)
    return [Hit(mid, chat, role_, created, *_highlights(raw))
            for mid, chat, role_, created, raw in conn.execute(sql, args).fetchall()]


def _highlights(raw: str) -> tuple[str, list[tuple[int, int]]]:
    """The snippet on one line without its markers, and where the markers were."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    length, start = 0, None
    for part in _MARKERS.split(" ".join(raw.split())):
        if part == _OPEN:
            start = length
        elif part == _CLOSE:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        elif part:
            text.append(part)
            length += len(part)
    return "".join(text), spans
