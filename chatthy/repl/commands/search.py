"""/search: find messages across the profile's chats (``chatthy chat search`` in the REPL)."""

from __future__ import annotations

from chatthy.cli.search_hits import marked
from chatthy.errors import BadRequest
from chatthy.render.sanitise import neutralise
from chatthy.render.stream import sgr
from chatthy.repl.commands import command

LIMIT = 10


@command("search", usage="WORDS…", help="Find messages holding every word, in all chats (\"a phrase\", prefix*)")
async def search(repl, arg: str) -> None:
    if not arg.strip():
        raise BadRequest('/search WORDS: what to look for ("a phrase" and prefix* work too)')
    hits = await repl.call("chat.search", profile=repl.profile, query=arg, limit=LIMIT)
    if not hits:
        repl.screen.note("no messages match")
        return
    color = repl.modes.color
    for hit in hits:
        where = f"{hit['chat']} #{hit['message_id']} · {hit['role']}"
        repl.screen.print(neutralise(where) if not color else f"{sgr('1;36')}{neutralise(where)}{sgr('0')}")
        on, off = (sgr("1"), sgr("22")) if color else ("»", "«")
        repl.screen.print("  " + marked(hit["snippet"], hit["highlights"], on, off))
    more = " (the first 10: `chatthy chat search -n N` for more)" if len(hits) == LIMIT else ""
    repl.screen.note(f"─ {len(hits)} found{more}; /chat NAME opens one")

