"""/rag: answer with passages retrieved from the vector store (what ``chatthy ask --rag`` does).

``/rag on`` makes every following question of this REPL a ``--rag`` ask (the
toolbar says ``rag``), ``/rag off`` stops it, ``/rag QUERY…`` makes the next
question only search QUERY instead of its own words (toolbar: ``rag once``),
and ``/rag`` alone tells the state and what the vector store holds. The
daemon does the retrieval (chatthy/vdb/rag.py); the sources it used are
listed under the answer, as ``ask --rag`` lists them.
"""

from __future__ import annotations

from chatthy.errors import BadRequest, ChatthyError
from chatthy.render.citations import NO_CONTEXT, format_citations
from chatthy.render.sanitise import neutralise
from chatthy.repl.commands import command

MAX_QUERY = 20_000  # the ask's ``rag`` parameter takes at most this many characters


def show_citations(repl, rag: dict) -> None:
    """The sources under an answer given with retrieval (or why there are none)."""
    text = format_citations(rag)
    if text is None:
        repl.screen.note(NO_CONTEXT, "33")
        return
    repl.screen.print(neutralise(text))  # titles and paths come from the user's documents


@command("rag", usage="[on|off|QUERY…]",
         help="Answer from the vector store: on/off for every question, or QUERY for the next one",
         complete=("on", "off"))
async def rag(repl, arg: str) -> None:
    modes = repl.modes
    word = arg.lower()
    if not arg:
        await _show_state(repl)
    elif word == "on":
        modes.rag = True
        repl.screen.note("rag on: every question is answered with passages from the vector store (/rag off stops)")
    elif word == "off":
        modes.rag, modes.rag_next = False, None
        repl.screen.note("rag off: questions are answered without the vector store")
    else:
        if len(arg) > MAX_QUERY:
            raise BadRequest(f"/rag: the query is longer than {MAX_QUERY:,} characters")
        modes.rag_next = arg
        repl.screen.note(f"the next question searches the vector store for: {neutralise(arg)}")


async def _show_state(repl) -> None:
    modes = repl.modes
    state = "rag on: every question is answered with passages from the vector store" if modes.rag else "rag off"
    if modes.rag_next is not None:
        state += f"; the next question searches for: {neutralise(modes.rag_next)}"
    try:
        info = await repl.call("vdb.info", profile=repl.profile)
    except ChatthyError:
        info = None
    if info is not None:
        docs, chunks = info.get("documents", 0), info.get("chunks", 0)
        state += (f" · vector store: {docs} document{'s' * (docs != 1)}, {chunks} chunk{'s' * (chunks != 1)}"
                  + ("" if docs else " (add some with `chatthy vdb ingest PATH…`)"))
    repl.screen.note(state)
    repl.screen.note("/rag on · /rag off · /rag QUERY… (the next question only)")
