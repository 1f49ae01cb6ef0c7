"""Copying to the clipboard with OSC 52, which works over SSH.

The terminal, not this machine, owns the clipboard: ``ESC ] 52 ; c ; <base64> BEL``
asks the terminal to set it. Many terminals support it (kitty, WezTerm,
iTerm2, Alacritty, foot, Windows Terminal, xterm with allowWindowOps); some
ignore it silently (GNOME Terminal and other VTE terminals, Apple Terminal),
and tmux passes it on only with ``set -g set-clipboard on``. We cannot ask the
terminal whether it worked, so ``support_hint`` says when it probably did not.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess

# Terminals cap the sequence (xterm: 100 kB of base64 by default); beyond this we warn.
LARGE = 74_000

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def osc52(text: str, env: dict | None = None) -> str:
    """The escape sequence that puts ``text`` on the clipboard (wrapped for GNU screen)."""
    env = os.environ if env is None else env
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if env.get("TERM", "").startswith("screen") and not env.get("TMUX"):
        # GNU screen swallows OSC; a DCS passthrough reaches the outer terminal.
        sequence = f"\x1bP{sequence}\x1b\\"
    return sequence


def _tmux_set_clipboard() -> str | None:
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    try:
        out = subprocess.run([tmux, "show-options", "-gv", "set-clipboard"], capture_output=True,
                             text=True, timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def support_hint(env: dict | None = None) -> str | None:
    """Why the copy may not have reached the clipboard, or None when it probably did."""
    env = os.environ if env is None else env
    if env.get("TMUX"):
        setting = _tmux_set_clipboard()
        if setting != "on":
            return "tmux passes OSC 52 on only with `set -g set-clipboard on`"
        return None
    if env.get("TERM_PROGRAM") == "Apple_Terminal":
        return "Apple Terminal ignores OSC 52 (iTerm2, kitty, WezTerm and Alacritty support it)"
    if env.get("VTE_VERSION") and not env.get("TERM_PROGRAM"):
        return "GNOME Terminal and other VTE terminals ignore OSC 52"
    if env.get("TERM") in ("linux", "dumb"):
        return "this terminal does not support OSC 52"
    return None


def code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of a Markdown text, in order, without their fences."""
    blocks: list[str] = []
    current: list[str] | None = None
    fence = ("", 0, 0)
    for line in markdown.splitlines():
        m = _FENCE.match(line)
        if current is None:
            if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
                current = []
                fence = (m.group(2)[0], len(m.group(2)), len(m.group(1)))
            continue
        if m and m.group(2)[0] == fence[0] and len(m.group(2)) >= fence[1] and not m.group(3).strip():
            blocks.append("\n".join(current) + "\n" if current else "")
            current = None
            continue
        indent = 0
        while indent < fence[2] and indent < len(line) and line[indent] == " ":
            indent += 1
        current.append(line[indent:])
    if current is not None:  # an unclosed block at the end still counts
        blocks.append("\n".join(current) + "\n" if current else "")
    return blocks
