"""Key bindings on top of prompt-toolkit's emacs/vi sets.

    Ctrl-C       cancel the reply streaming in the chat; else clear the input;
                 at an empty prompt: a hint, never an exit
    Ctrl-D       quit (at an empty prompt)
    F2           command mode: every line is a command, no "/" needed
    F3           multiline mode: Enter adds a line, Alt-Enter (Esc Enter) sends
    F4           LaTeX rendering on/off
    Ctrl-X Ctrl-E  edit the input in $EDITOR (vi mode: v)
    Ctrl-R       search the history
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prompt_toolkit.key_binding import KeyBindings

if TYPE_CHECKING:
    from chatthy.repl.app import Repl

HELP = [
    ("Ctrl-C", "cancel the reply; clear the input; never quits"),
    ("Ctrl-D", "quit (at an empty prompt)"),
    ("F2", "command mode on/off (lines are commands without /)"),
    ("F3", "multiline on/off (then Alt-Enter or Esc Enter sends)"),
    ("F4", "LaTeX → Unicode on/off"),
    ("Ctrl-X Ctrl-E", "edit the input in $EDITOR (vi mode: v)"),
    ("Ctrl-R", "search the history"),
    ("Tab", "complete commands, chats, personalities, models, paths"),
]


def key_bindings(repl: Repl) -> KeyBindings:
    kb = KeyBindings()

    @kb.add("c-c", eager=True)
    def _interrupt(event) -> None:
        buffer = event.app.current_buffer
        if repl.live.cancel():
            repl.flash("cancelling the reply…")
            return
        if buffer.text:
            buffer.reset()
            return
        if repl.modes.editing is not None:
            repl.modes.editing = None
            repl.flash("edit abandoned")
            return
        repl.flash("Ctrl-D or /quit to leave")

    @kb.add("f2")
    def _command_mode(event) -> None:
        repl.modes.command = not repl.modes.command
        event.app.invalidate()

    @kb.add("f3")
    def _multiline(event) -> None:
        repl.modes.multiline = not repl.modes.multiline
        event.app.invalidate()

    @kb.add("f4")
    def _latex(event) -> None:
        repl.modes.latex = not repl.modes.latex
        repl.flash(f"LaTeX rendering {'on' if repl.modes.latex else 'off'}")

    return kb
