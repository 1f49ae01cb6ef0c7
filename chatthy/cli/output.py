"""Output conventions: data on stdout, one-line messages on stderr, exit codes.

Model output and names never drive the terminal: on a TTY, escape sequences
and other control characters in text that came from outside are neutralised
(shown as visible ``^[``-style text) before they are printed.
"""

from __future__ import annotations

import os
import sys

from chatthy.control_chars import neutralise
from chatthy.errors import ChatthyError

# Click-free on purpose: the fast path (chatthy/cli/fastpath.py) serves `ask`
# and `chat list` without importing Click, and they print through this module.


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


COLOR_MODES = ("auto", "always", "never")
# Set by the top-level group from --color and -q/--quiet (chatthy.cli.main).
_color_mode = "auto"
_quiet = False


def configure(*, color: str | None = None, quiet: bool | None = None) -> None:
    """Apply the global --color / --quiet choices for the rest of the process."""
    global _color_mode, _quiet
    if color is not None:
        if color not in COLOR_MODES:
            raise ValueError(f"color must be one of {COLOR_MODES}")
        _color_mode = color
    if quiet is not None:
        _quiet = quiet


_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35",
        "cyan": "36"}


def style(text: str, *, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
    """ANSI-styled ``text``, byte-identical to ``click.style`` for these attributes."""
    codes = ([_SGR[fg]] if fg else []) + (["1"] if bold else []) + (["2"] if dim else [])
    return "".join(f"\x1b[{c}m" for c in codes) + text + "\x1b[0m"


def echo(text: str = "", *, err: bool = False) -> None:
    """One line to stdout (or stderr), flushed: what ``click.echo`` did here, without Click."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def is_quiet() -> bool:
    return _quiet


def color_enabled(stream=None) -> bool:
    """Colour on ``stream``? --color always/never decide; auto: a terminal, NO_COLOR unset or empty."""
    if _color_mode != "auto":
        return _color_mode == "always"
    return is_tty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def write_text(text: str, *, stream=None, flush: bool = True) -> None:
    stream = stream or sys.stdout
    stream.write(neutralise(text) if is_tty(stream) else text)
    if flush:
        stream.flush()


def note(message: str) -> None:
    """A human message for the user (stderr): quiet when stderr is not a terminal, or with -q."""
    if is_tty(sys.stderr) and not _quiet:
        color = color_enabled(sys.stderr)
        text = neutralise(message)  # before styling: the message's own escapes must not act
        echo(style(text, dim=True) if color else text, err=True)


def error_line(message: str) -> None:
    prefix = "chatthy: error: "
    if color_enabled(sys.stderr):
        prefix = style(prefix, fg="red", bold=True)
    first = neutralise(" ".join(message.split("\n")).strip())
    echo(prefix + first, err=True)


def print_json(value) -> None:
    import json  # indented output needs json's Python encoder; only --json pays for it

    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def table(headers: list[str], rows) -> None:
    """Aligned columns with a header on a TTY; tab-separated, no header, otherwise."""
    rows = [[neutralise(str(c)) if is_tty() else str(c) for c in row] for row in rows]
    if not is_tty():
        for row in rows:
            sys.stdout.write("\t".join(row) + "\n")
        return
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    head = "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()
    out = [style(head, bold=True) if color_enabled() else head]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def guarded(action) -> int:
    """Run a command's ``action()``: our errors become one line and their exit code."""
    try:
        result = action()
        return result if isinstance(result, int) else 0
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except ChatthyError as exc:
        error_line(exc.message)
        return exc.exit_code
    except BrokenPipeError:
        return broken_pipe()


def run_cli(group) -> int:
    """Run the Click group; ChatthyError and friends become one line and an exit code."""
    import click

    def click_main():
        try:
            return group.main(prog_name="chatthy", standalone_mode=False)
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except click.UsageError as exc:
            # One line, like every other error, instead of Click's usage block;
            # the command's --help is where the usage is.
            where = exc.ctx.command_path if exc.ctx is not None else "chatthy"
            error_line(f"{exc.format_message()} (see `{where} --help`)")
            return exc.exit_code
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except click.Abort:
            sys.stderr.write("chatthy: interrupted\n")
            return 130

    return guarded(click_main)


def broken_pipe() -> int:
    """The reader went away (`chatthy chat list | head -1`): not an error of ours."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141
