"""Generate man/chatthy.1 from the Click commands plus the sections written below.

Every command, subcommand, option and argument comes from the live Click app
(every module in ``COMMANDS`` is imported), and so do the environment
variables options read; FILES, ENVIRONMENT, EXIT STATUS, EXAMPLES and the rest
are written here. A test regenerates the page and compares it with the
committed file, and lints it with ``groff -ww`` (and ``mandoc -T lint``).

    .venv/bin/python -m chatthy.cli.manpage > man/chatthy.1
"""

from __future__ import annotations

import inspect
import re
import sys

import click

from chatthy import __version__

# The date in the page footer: bump it with a release (a generated date would
# make the page differ on every run).
MAN_DATE = "2026-01-15"

# Written sections, in roff. Lines starting with "." are requests.
DESCRIPTION = r"""
.B chatthy
conducts and manages chats with large language models from the terminal.
One long\-lived daemon owns the chats (one SQLite file), the provider
connections, the tokenizers and the replies being generated; many short\-lived
clients \(em this command, the REPL, scripts \(em talk to it over Ed25519\-signed
frames on a Unix socket (or TCP between machines).
.PP
Any command starts the daemon when none answers (unless
.B \-\-no\-autostart
is given or
.B autostart = false
is set under
.B [client]
in the configuration); it can also run as a user service:
see
.BR "chatthy daemon install" .
A reply belongs to the daemon, not to the client: it keeps streaming into the
database when the client is killed, and any client can follow or cancel it.
.PP
Data goes to standard output, messages and errors to standard error.
Output is plain text when standard output is not a terminal;
.B \-\-json
gives machine\-readable output on every command that lists or shows something.
Where a command reads a file,
.B \-
means standard input.
"""

FILES = r"""
.TP
.I ~/.config/chatthy/config.toml
The configuration (providers, daemon, client, chat settings). Written with
every setting commented out on first run; an invalid file is refused with
its path, line and reason. Shipped providers (openai, anthropic, tabby,
ollama) are merged with yours field by field. Its commented default:
.PP
.RS
.nf
{config}
.fi
.RE
.TP
.IR ~/.config/chatthy/client.key ", " daemon.key
This machine's Ed25519 keys (mode 600; refused if others can read them).
.TP
.I ~/.config/chatthy/daemon.pub
The daemon's public key, pinned by clients.
.TP
.I ~/.config/chatthy/authorized_keys
The client keys the daemon accepts, one per line (mode 600; see
.BR "chatthy keys" ).
.TP
.I ~/.config/chatthy/service.env
KEY=value lines (API keys) the systemd user service reads; mode 600.
.TP
.I ~/.local/share/chatthy/chatthy.db
The database: plain SQLite in WAL mode, readable with
.BR sqlite3 (1)
while the daemon runs.
.TP
.IR ~/.local/state/chatthy/daemon.log ", " daemon.pid ", " client.json
The daemon's log (rotated at 2 MiB), its pid (locked while it runs), and the
client's current profile and chat.
.TP
.I $XDG_RUNTIME_DIR/chatthy/chatthy.sock
The daemon's socket (mode 600 in a 700 directory); in the state directory when
XDG_RUNTIME_DIR is not set.
.TP
.IR ~/.config/systemd/user/chatthy.service ", " chatthy.socket
The systemd user units written by
.BR "chatthy daemon install" ;
on macOS,
.IR ~/Library/LaunchAgents/io.github.chatthy.plist .
.PP
On macOS the configuration and data live in
.I ~/Library/Application Support/chatthy
and the state in
.IR ~/Library/Logs/chatthy .
"""

ENVIRONMENT = {
    "CHATTHY_CONFIG_DIR": "Directory of config.toml and the keys.",
    "CHATTHY_DATA_DIR": "Directory of chatthy.db.",
    "CHATTHY_STATE_DIR": "Directory of the log, pid file and client state (and of the socket, unless "
                         "CHATTHY_SOCKET is set).",
    "CHATTHY_SOCKET": "Path of the daemon's Unix socket.",
    "NO_COLOR": "When set and not empty, no colour (unless --color always).",
    "TERM": "When dumb, no colour.",
    "XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR": "Base directories, as the XDG "
                                                                      "Base Directory specification says.",
    "OPENAI_API_KEY, ANTHROPIC_API_KEY, TABBY_API_KEY": "API keys of the shipped providers, read by the "
                                                        "daemon (the api_key_env setting names the variable).",
    "_CHATTHY_COMPLETE": "Set by the completion scripts to ask chatthy for completions.",
}

EXIT_STATUS = [
    ("0", "Success."),
    ("1", "Internal error (a bug: details in the daemon log); chatthy doctor: a check failed."),
    ("2", "Bad input or usage."),
    ("3", "The daemon is unavailable (chatthy daemon status: it is not running)."),
    ("4", "Not found (chat, profile, provider, ...)."),
    ("5", "The provider failed; its message is shown."),
    ("6", "Unauthorised (unknown key, bad signature, wrong user)."),
    ("7", "Input too large."),
    ("8", "Busy, or a conflict (name taken, a daemon already running)."),
    ("9", "The request does not fit the model's context window."),
    ("10", "Configuration error (file, line and reason are shown)."),
    ("130", "Interrupted (Ctrl\\-C); a partial reply is kept."),
    ("141", "Standard output was closed (e.g. by head)."),
]

EXAMPLES = r"""
.nf
echo "Explain SQLite WAL in two sentences" | chatthy ask
chatthy ask \-c notes "Remember: my cat is called Bob"
chatthy ask summarise this: < notes.txt
chatthy chat list \-\-json | jq \-r '.[].name'
chatthy daemon install \-\-socket
chatthy completion bash > ~/.local/share/bash\-completion/completions/chatthy
chatthy doctor
sqlite3 ~/.local/share/chatthy/chatthy.db 'select role, content from messages'
.fi
"""

SEE_ALSO = r"""
.BR sqlite3 (1),
.BR systemctl (1),
.BR launchctl (1)
.PP
README.md of chatthy: a tour, configuration, local models, the schema and the security model.
"""

_SPECIALS = {"\u2026": "...", "\u2014": r"\(em", "\u2013": r"\(en", "\u2192": r"\(->", "\u2190": r"\(<-",
             "\u201c": r"\(lq", "\u201d": r"\(rq", "\u2018": r"\(oq", "\u2019": r"\(cq", "\u00b7": r"\(pc"}


def escape(text: str) -> str:
    """Text for a roff line: backslashes, hyphens, non-ASCII, and no request at a line start."""
    text = text.replace("\\", r"\e").replace("-", r"\-")
    text = "".join(_SPECIALS.get(c, c) if ord(c) < 128 or c in _SPECIALS else f"\\[u{ord(c):04X}]" for c in text)
    return "\n".join(r"\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def wrap(page: str, width: int = 78) -> str:
    """Break text lines longer than ``width`` at spaces (not requests, not inside .nf)."""
    import textwrap

    out, filling = [], True
    for line in page.split("\n"):
        if line.startswith((".", "'")):
            filling = {".nf": False, ".fi": True}.get(line.split(" ")[0], filling)
            out.append(line)
        elif filling and len(line) > width:
            pieces = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
            out += [r"\&" + p if p.startswith((".", "'")) else p for p in pieces]
        else:
            out.append(line)
    return "\n".join(out)


def _paragraphs(help_text: str | None) -> list[str]:
    """Click help as roff paragraphs; a ``\\b`` paragraph keeps its lines."""
    text = inspect.cleandoc(help_text or "").split("\f")[0]
    out = []
    for block in re.split(r"\n\s*\n", text):
        if not block.strip():
            continue
        if block.startswith("\b"):
            lines = [escape(line) for line in block[1:].strip("\n").split("\n")]
            out.append(".nf\n" + "\n".join(lines) + "\n.fi")
        else:
            out.append(escape(" ".join(block.split())))
    return out


def _option_term(record: str) -> str:
    """'-c, --chat NAME' → option names in bold, the rest as is."""
    parts = re.split(r"((?<![\w-])-{1,2}[A-Za-z0-9][\w-]*)", record)
    return "".join(rf"\fB{escape(p)}\fR" if re.fullmatch(r"-{1,2}[A-Za-z0-9][\w-]*", p) else escape(p)
                   for p in parts)


def _options(cmd: click.Command, ctx: click.Context) -> list[str]:
    out = []
    for param in cmd.get_params(ctx):
        if not isinstance(param, click.Option) or param.hidden:
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        term, help_text = record
        out += [".TP", _option_term(term), escape(" ".join(help_text.split())) or r"\&"]
    return out


def _title(ctx: click.Context, cmd: click.Command) -> str:
    usage = " ".join([ctx.command_path, *cmd.collect_usage_pieces(ctx)])
    return '.SS "' + escape(usage).replace('"', r"\(dq") + '"'


def _command(cmd: click.Command, ctx: click.Context, help_text: str | None = None) -> list[str]:
    out = [_title(ctx, cmd)]
    for i, para in enumerate(_paragraphs(help_text or cmd.help)):
        out += ([".PP"] if i else []) + [para]
    out += _options(cmd, ctx)
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                out += _command(sub, click.Context(sub, info_name=name, parent=ctx))
    return out


def _environment(cli: click.Group, ctx: click.Context) -> list[str]:
    entries = dict(ENVIRONMENT)

    def collect(cmd: click.Command, cmd_ctx: click.Context) -> None:
        for param in cmd.get_params(cmd_ctx):
            envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or ())
            for var in envvars:
                opt = "/".join(getattr(param, "opts", [])) or param.name
                entries.setdefault(var, f"Default of {cmd_ctx.command_path} {opt}: {param.help or ''}".strip())
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(cmd_ctx):
                sub = cmd.get_command(cmd_ctx, name)
                if sub is not None:
                    collect(sub, click.Context(sub, info_name=name, parent=cmd_ctx))

    collect(cli, ctx)
    out = []
    for var in sorted(entries):
        out += [".TP", r"\fB" + escape(var) + r"\fR", escape(entries[var])]
    return out


def render() -> str:
    from chatthy import config
    from chatthy.cli.main import COMMANDS, cli

    ctx = click.Context(cli, info_name="chatthy", **cli.context_settings)
    out = [
        r'.\" Generated by `python -m chatthy.cli.manpage` from the Click commands and the',
        r'.\" sections written in chatthy/cli/manpage.py: do not edit, regenerate.',
        f'.TH CHATTHY 1 "{MAN_DATE}" "chatthy {escape(__version__)}" "User Commands"',
        ".SH NAME", r"chatthy \- conduct and manage chats with LLMs from the terminal",
        ".SH SYNOPSIS", r".B chatthy", r"[\fIOPTIONS\fR] \fICOMMAND\fR [\fIARGS\fR]...",
        ".SH DESCRIPTION", DESCRIPTION.strip(),
        ".SH OPTIONS", *_options(cli, ctx),
        ".SH COMMANDS",
    ]
    for name in cli.list_commands(ctx):
        sub = cli.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            out += _command(sub, sub_ctx, sub.help or COMMANDS[name][2])
    config_lines = "\n".join(escape(line) or r"\&" for line in config.DEFAULT_CONFIG_TEXT.rstrip("\n").split("\n"))
    out += [".SH FILES", FILES.strip().replace("{config}", config_lines)]
    out += [".SH ENVIRONMENT", *_environment(cli, ctx)]
    out += [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS:
        out += [".TP", rf"\fB{code}\fR", meaning]
    out += [".SH EXAMPLES", EXAMPLES.strip(), ".SH SEE ALSO", SEE_ALSO.strip(), ""]
    return wrap("\n".join(out))


if __name__ == "__main__":
    sys.stdout.write(render())
