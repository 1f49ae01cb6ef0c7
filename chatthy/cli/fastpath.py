"""The fast path: the commonest command lines, served without importing Click.

Importing Click costs about 24 ms, more than Python itself takes to start, and
``chatthy ask`` in a shell loop or ``chatthy chat list`` in a prompt pays it on
every run. So the entry point (entry.py) first offers the command line to
``parse`` here, which understands a small, exact subset:

    chatthy [GLOBAL…] ask [ASK-OPTION | WORD]… [-- WORD…]
    chatthy [GLOBAL…] chat list [--persona NAME] [--json]
    chatthy --help | -h | --version | -V

with GLOBAL one of --profile NAME, --no-autostart, -q/--quiet, --color MODE.
Anything else (another command, another option, a bundled ``-qn``, a help
flag after a command, an environment value Click would read differently)
makes ``parse`` return None and Click handles the whole command line, errors
included. Whatever is parsed here runs the very functions the Click commands
run (asking.run_ask, chat_listing.list_chats), and tests/cli/test_fastpath.py
checks that every command line accepted here parses to the same values under
Click. ``CHATTHY_NO_FASTPATH=1`` turns the fast path off.
"""

from __future__ import annotations

import os
import sys

GLOBAL_VALUE = {"--profile": "profile", "--color": "color"}
GLOBAL_FLAG = {"--no-autostart": "no_autostart", "-q": "quiet", "--quiet": "quiet"}
COLOR_MODES = ("auto", "always", "never")
# Global options Click may also read from the environment (see main.py).
ENV = {"profile": "CHATTHY_PROFILE", "no_autostart": "CHATTHY_NO_AUTOSTART", "color": "CHATTHY_COLOR",
       "quiet": "CHATTHY_QUIET"}

ASK_VALUE = {"-c": "chat", "--chat": "chat", "-p": "provider", "--provider": "provider", "-m": "model",
             "--model": "model", "-s": "system", "--system": "system", "-P": "persona", "--persona": "persona"}
ASK_FLAG = {"-C": "cont", "--continue": "cont", "-n": "new", "--new": "new", "--no-stream": "no_stream",
            "-q": "quiet", "--quiet": "quiet", "--edit-last": "edit_last", "-y": "approve", "--yes": "approve",
            "--verbose": "verbose", "-r": "raw", "--raw": "raw"}
LIST_VALUE = {"--persona": "persona"}
LIST_FLAG = {"--json": "as_json"}

# Click's reading of a boolean flag's environment variable (BoolParamType).
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class Decline(Exception):
    """Not a command line the fast path serves: hand it to Click."""


class Parsed:
    """A command line the fast path will serve: which command, and its values."""

    def __init__(self, command: str, globals_: dict, options: dict) -> None:
        self.command = command  # "ask", "chat list", "help" or "version"
        self.globals = globals_
        self.options = options

    def __repr__(self) -> str:
        return f"Parsed({self.command!r}, {self.globals!r}, {self.options!r})"


def _options(args: list[str], i: int, values: dict, flags: dict, out: dict, words: list | None) -> None:
    """Consume ``args[i:]`` as options (``--name VALUE``, ``--name=VALUE``, flags) and, if allowed, words."""
    only_words = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_words or arg == "-" or not arg.startswith("-"):
            if words is None:
                raise Decline(arg)
            words.append(arg)
        elif arg == "--":
            if words is None:
                raise Decline(arg)
            only_words = True
        elif arg in flags:
            out[flags[arg]] = True
        elif arg in values:
            if i >= len(args):
                raise Decline(arg)  # Click explains the missing value
            out[values[arg]] = args[i]
            i += 1
        elif arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in values:
            name, value = arg.split("=", 1)
            out[values[name]] = value
        else:
            raise Decline(arg)


def _env_globals(environ) -> dict:
    """The global options' values from the environment, read as Click reads them."""
    values = {"profile": None, "no_autostart": False, "color": "auto", "quiet": False}
    for key, var in ENV.items():
        raw = environ.get(var)
        if not raw:  # unset or empty: Click treats both as unset
            continue
        if key == "profile":
            values[key] = raw
        elif key == "color":
            if raw not in COLOR_MODES:
                raise Decline(var)
            values[key] = raw
        else:
            word = raw.strip().lower()
            if word not in _TRUE | _FALSE:
                raise Decline(var)
            values[key] = word in _TRUE
    return values


def parse(args: list[str], environ=os.environ) -> Parsed | None:
    """The fast path's reading of a command line, or None: Click's turn."""
    if environ.get("CHATTHY_NO_FASTPATH") or "_CHATTHY_COMPLETE" in environ:
        return None
    if args in (["--help"], ["-h"]):
        return Parsed("help", {}, {})
    if args in (["--version"], ["-V"]):
        return Parsed("version", {}, {})
    try:
        globals_ = _env_globals(environ)
        i = 0
        while i < len(args) and args[i].startswith("-"):
            arg = args[i]
            name, eq, value = arg.partition("=")
            if arg in GLOBAL_FLAG:
                globals_[GLOBAL_FLAG[arg]] = True
                i += 1
            elif arg in GLOBAL_VALUE and i + 1 < len(args):
                globals_[GLOBAL_VALUE[arg]] = args[i + 1]
                i += 2
            elif eq and name in GLOBAL_VALUE:
                globals_[GLOBAL_VALUE[name]] = value
                i += 1
            else:
                raise Decline(arg)
        if globals_["color"] not in COLOR_MODES:
            raise Decline("--color")
        rest = args[i:]
        if rest[:1] == ["ask"]:
            words: list[str] = []
            options: dict = {}
            _options(rest, 1, ASK_VALUE, ASK_FLAG, options, words)
            options["prompt"] = tuple(words)
            return Parsed("ask", globals_, options)
        if rest[:2] == ["chat", "list"]:
            options = {}
            _options(rest, 2, LIST_VALUE, LIST_FLAG, options, None)
            return Parsed("chat list", globals_, options)
    except Decline:
        return None
    return None


def _help_text() -> str | None:
    """Click's own rendering of ``chatthy --help`` (top_help.txt), when it is what Click would print.

    Click wraps help to the terminal width capped at 80 columns, so on any
    terminal at least 80 columns wide, and off a terminal, the text is fixed;
    on a narrower terminal Click renders it.
    """
    columns = os.environ.get("COLUMNS")
    if columns is not None:
        if not (columns.isdigit() and int(columns) >= 80):
            return None
    else:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            width = 80  # not a terminal: Click falls back to 80 columns
        if 0 < width < 80:
            return None
    with open(os.path.join(os.path.dirname(__file__), "top_help.txt"), encoding="utf-8") as fh:
        return fh.read()


def run(parsed: Parsed) -> int | None:
    """Serve a parsed command line; the exit code, or None to let Click do it after all."""
    if parsed.command == "version":
        from chatthy import __version__

        sys.stdout.write(f"chatthy, version {__version__}\n")
        return 0
    if parsed.command == "help":
        text = _help_text()
        if text is None:
            return None
        sys.stdout.write(text)
        return 0
    from chatthy.cli.context import AppContext
    from chatthy.cli.output import configure, guarded

    g = parsed.globals
    configure(color=g["color"], quiet=g["quiet"])
    app = AppContext(profile=g["profile"], autostart=not g["no_autostart"])
    if parsed.command == "ask":
        from chatthy.cli.asking import run_ask

        return guarded(lambda: run_ask(app, **parsed.options))
    from chatthy.cli.chat_listing import list_chats

    return guarded(lambda: list_chats(app, **parsed.options))


def serve(args: list[str]) -> int | None:
    """Run ``args`` on the fast path if it can; None if Click must."""
    parsed = parse(args)
    return None if parsed is None else run(parsed)
