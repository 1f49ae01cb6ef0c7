"""/option: API parameters for this REPL's questions (what ``chatthy ask -o`` does once).

``/option temperature=0.2 seed=7`` sets them for every question (and /retry)
from now on, in this REPL only; the toolbar shows their names. ``/option``
lists them, ``/option clear`` drops them all, ``/option clear KEY…`` some.
They are checked when set (chatthy/request_options.py), so a refused one
never sits there failing every question after it.
"""

from __future__ import annotations

import shlex

from chatthy.cli.asking import parse_options
from chatthy.errors import BadRequest
from chatthy.render.sanitise import neutralise
from chatthy.repl.commands import command
from chatthy.request_options import check_options
from chatthy.wire.json_codec import dumps


@command("option", usage="[KEY=VALUE…|clear [KEY…]]",
         help="API parameters for the questions that follow (temperature=0.2); clear drops them",
         aliases=("o",), complete=("clear",))
async def option(repl, arg: str) -> None:
    options = repl.modes.options
    try:
        words = shlex.split(arg)  # stop='["a b"]': quotes keep a value's spaces
    except ValueError as exc:
        raise BadRequest(f"/option: {exc}") from None
    if not words:
        if not options:
            repl.screen.note("no options: the provider's params apply (/option temperature=0.2 sets one)")
            return
        repl.screen.note(_shown(options))
        return
    if words[0] == "clear":
        keys = words[1:] or list(options)
        unknown = [k for k in keys if k not in options]
        if unknown:
            raise BadRequest(f"no option {unknown[0]!r} is set (/option lists them)")
        for key in keys:
            del options[key]
        repl.screen.note(f"cleared {', '.join(keys) or 'nothing'}")
        repl.redraw()
        return
    new = {**options, **parse_options(words)}
    check_options(new)
    options.clear()
    options.update(new)
    repl.screen.note(_shown(new) + " (for every question from now on; /option clear drops them)")
    repl.redraw()


def _shown(options: dict) -> str:
    return "options: " + neutralise(" ".join(f"{k}={dumps(v, ensure_ascii=False)}" for k, v in options.items()))
