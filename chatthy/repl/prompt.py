"""The prompt line, the bottom toolbar, and the prompt-toolkit session."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app_or_none
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import ANSI, to_formatted_text
from prompt_toolkit.history import FileHistory
from prompt_toolkit.styles import Style

from chatthy.paths import ensure_private_dir
from chatthy.repl.completion import ReplCompleter
from chatthy.repl.keys import key_bindings
from chatthy.repl.live import human_count

if TYPE_CHECKING:
    from chatthy.repl.app import Repl

STYLE = Style.from_dict({
    "prompt": "bold",
    "prompt.command": "bold ansiyellow",
    "prompt.edit": "bold ansicyan",
    "prompt.approval": "bold ansimagenta",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "bottom-toolbar.key": "bold",
    "bottom-toolbar.flag": "ansiyellow",
    "bottom-toolbar.flash": "bold ansigreen",
    "bottom-toolbar.busy": "bold ansicyan",
})


def message(repl: Repl):
    """The prompt, with a streaming reply's provisional tail above it."""
    app = get_app_or_none()
    fragments = []
    if repl.screen.tail and not (app is not None and app.is_done):
        fragments.extend(to_formatted_text(ANSI(repl.screen.tail + "\n")))
    if repl.modes.approval is not None:
        fragments.append(("class:prompt.approval",
                          f"run {repl.modes.approval.tool}? [y]es / [n]o / [a]lways in this chat › "))
    elif repl.modes.editing is not None:
        fragments.append(("class:prompt.edit", "edit › "))
    elif repl.modes.command:
        fragments.append(("class:prompt.command", "cmd › "))
    else:
        fragments.append(("class:prompt", "› "))
    return fragments


def toolbar(repl: Repl):
    """profile │ chat │ personality │ provider/model │ used/context, modes, hints."""
    chat = repl.chat
    name = chat.name or "(new chat)"
    if len(name) > 32:
        name = name[:31] + "…"
    if chat.name and not chat.exists:
        name += " (new)"
    provider = chat.pending.get("provider") or chat.provider or "?"
    model = chat.pending.get("model") or chat.model or "?"
    personality = chat.pending.get("persona") or chat.personality
    budget = f"{human_count(chat.used)}/{human_count(chat.context_length)}" if chat.context_length else "?"
    # What needs attention first: a narrow terminal cuts the toolbar's end.
    parts = []
    if repl.flash_state and repl.flash_state[1] > time.monotonic():
        parts.append(("class:bottom-toolbar.flash", " " + repl.flash_state[0] + " │"))
    elif repl.live.streaming:
        parts.append(("class:bottom-toolbar.busy", " replying… Ctrl-C cancels │"))
    parts.append(("class:bottom-toolbar", f" {repl.profile} │ {name} │ {personality} │ {provider}/{model} │ {budget} "))
    flags = [f for f, on in (("cmd", repl.modes.command), ("multiline", repl.modes.multiline),
                             ("vi", repl.modes.vi), ("raw", repl.modes.raw),
                             ("LaTeX off", not repl.modes.latex), ("rag", repl.modes.rag),
                             ("rag once", repl.modes.rag_next is not None and not repl.modes.rag)) if on]
    if repl.modes.options:  # /option: their names (the values: /option)
        flags.append("-o " + ",".join(repl.modes.options))
    if repl.modes.images:  # /image: waiting for the next message
        flags.append(f"📎 {len(repl.modes.images)}")
    if flags:
        parts.append(("class:bottom-toolbar.flag", "│ " + " · ".join(flags) + " "))
    parts.append(("class:bottom-toolbar", "│ /help · F2 cmd · F3 multiline "))
    return parts


def build_session(repl: Repl) -> PromptSession:
    """The prompt-toolkit session; history in the state dir, private (0600)."""
    ensure_private_dir(repl.paths.state_dir)
    history_file = repl.paths.repl_history
    if not history_file.exists():
        fd = os.open(history_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    typing_a_command = Condition(lambda: repl.modes.command or (
        repl.session is not None and repl.session.default_buffer.text.startswith("/")))
    return PromptSession(
        message=lambda: message(repl),
        bottom_toolbar=lambda: toolbar(repl),
        completer=ReplCompleter(repl),
        complete_while_typing=typing_a_command,
        history=FileHistory(str(history_file)),
        multiline=Condition(lambda: repl.modes.multiline),
        prompt_continuation=lambda width, line, wrap: "… ".rjust(width),
        key_bindings=key_bindings(repl),
        enable_open_in_editor=True,
        tempfile_suffix=".md",
        editing_mode=EditingMode.VI if repl.modes.vi else EditingMode.EMACS,
        style=STYLE,
        reserve_space_for_menu=6,
        refresh_interval=1.0,
        input=repl.terminal_input,
        output=repl.terminal_output,
    )
