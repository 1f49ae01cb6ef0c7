"""/copy (to the terminal's clipboard through OSC 52) and /save (to a file)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from chatthy.errors import BadRequest, NotFound
from chatthy.repl.clipboard import LARGE, code_blocks, osc52, support_hint
from chatthy.repl.commands import command


async def last_reply(repl) -> str:
    """The text of the chat's last reply, as stored (Markdown and LaTeX as the model wrote them)."""
    name = repl.require_chat()
    data = await repl.call("chat.show", profile=repl.profile, name=name)
    reply = next((m for m in reversed(data.get("messages") or [])
                  if m.get("role") == "assistant" and m.get("content")), None)
    if reply is None:
        raise NotFound("this chat has no reply to copy yet")
    return reply["content"]


async def _selection(repl, arg: str) -> tuple[str, str]:
    text = await last_reply(repl)
    if not arg:
        return text, "the last reply"
    if not arg.isdigit() or int(arg) < 1:
        raise BadRequest("/copy N: N is the number of a code block, from 1")
    blocks = code_blocks(text)
    n = int(arg)
    if n > len(blocks):
        raise NotFound(f"the last reply has {len(blocks)} code block{'s' * (len(blocks) != 1)}")
    return blocks[n - 1], f"code block {n} of the last reply"


@command("copy", usage="[N]", help="Copy the last reply, or its Nth code block, to the clipboard (OSC 52)",
         aliases=("y",))
async def copy(repl, arg: str) -> None:
    text, what = await _selection(repl, arg)
    await repl.screen.drained()
    repl.screen.output.write_raw(osc52(text))
    repl.screen.output.flush()
    message = f"copied {what} ({len(text):,} characters) through OSC 52"
    hint = support_hint()
    if hint:
        message += f"; if nothing arrived: {hint}"
    if len(text.encode()) * 4 // 3 > LARGE:
        message += "; some terminals cut copies this large"
    repl.screen.note(message)


def _unquoted(arg: str) -> str:
    """FILE as typed (``my notes.md``), or quoted as Tab completes a name with spaces (``"my notes.md"``)."""
    if arg[:1] not in ("'", '"'):
        return arg
    try:
        words = shlex.split(arg)
    except ValueError as exc:  # an unclosed quote
        raise BadRequest(f"/save: {exc}") from None
    if len(words) != 1:
        raise BadRequest(f"/save: {len(words)} names; it writes one FILE")
    return words[0]


@command("save", usage="FILE", help="Write the last reply (or code block N: /save N FILE) to FILE", complete="path")
async def save(repl, arg: str) -> None:
    if not arg:
        raise BadRequest("/save FILE or /save N FILE")
    first, _, rest = arg.partition(" ")
    block = ""
    if first.isdigit() and rest.strip():
        block, arg = first, rest.strip()
    text, what = await _selection(repl, block)
    path = Path(os.path.expanduser(_unquoted(arg)))
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise BadRequest(f"{path} exists: chatthy does not overwrite files") from None
    except OSError as exc:
        raise BadRequest(f"cannot write {path}: {exc.strerror}") from None
    repl.screen.note(f"wrote {what} to {path}")
