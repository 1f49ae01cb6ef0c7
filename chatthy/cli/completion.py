"""Shell completion: ``chatthy completion bash|zsh|fish``, and the names only the daemon knows.

The scripts are generated from the Click commands (every command in
``chatthy.cli.main.COMMANDS`` is loaded to do so) and complete commands,
options and option choices on their own, with no process started. Names that
live in the database (chats, personas, profiles, templates, workspace items)
and models are asked of chatthy itself through Click's completion protocol
(``_CHATTHY_COMPLETE=bash_complete chatthy …``), which asks the daemon — never
starting one, within a short time limit, silent on any failure.

Which parameter completes which names is decided by convention, so commands
written anywhere get it without importing this module: an option or argument
named ``chat``/``persona``/``profile``/``template``/``model``/``provider``,
or an argument ``name``/``names`` of the ``chat``/``persona``/``profile``/
``template``/``ws`` groups. A parameter with its own ``shell_complete`` keeps it.

Regenerate the committed scripts after changing commands::

    .venv/bin/python -m chatthy.cli.completion --write completions/
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import click

SHELLS = ("bash", "zsh", "fish")
SCRIPT_FILES = {"bash": "chatthy.bash", "zsh": "_chatthy", "fish": "chatthy.fish"}
COMPLETE_VAR = "_CHATTHY_COMPLETE"
DAEMON_BUDGET = 1.0  # seconds a completion may spend asking the daemon

# -- dynamic names -------------------------------------------------------------------------


class _OutOfTime(Exception):
    pass


def _ask_daemon(method: str, **params: Any) -> Any:
    """One call to a running daemon within DAEMON_BUDGET; None on any failure."""
    from chatthy.paths import resolve

    paths = resolve()
    if not paths.socket.exists():
        return None  # no daemon: do not even read the config

    def out_of_time(signum, frame):
        raise _OutOfTime

    old = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, DAEMON_BUDGET)
    try:
        from chatthy.client import Client

        with Client(paths, autostart=False) as client:
            return client.call(method, **{k: v for k, v in params.items() if v is not None})
    except (Exception, _OutOfTime):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _names(result: Any) -> list[str]:
    """Names out of a listing: strings, or objects with a ``name``."""
    if isinstance(result, dict):
        result = next((v for v in result.values() if isinstance(v, list)), [])
    if not isinstance(result, list):
        return []
    out = []
    for item in result:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            out.append(name)
    return out


def _profile(ctx: click.Context) -> str | None:
    root = ctx.find_root()
    profile = root.params.get("profile") or os.environ.get("CHATTHY_PROFILE")
    if profile:
        return profile
    try:
        from chatthy.cli.state import ClientState
        from chatthy.paths import resolve

        return ClientState.load(resolve()).profile
    except Exception:
        return None


def _matching(names: list[str], incomplete: str) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        if name.startswith(incomplete) and not any(ord(c) < 32 for c in name):
            seen.setdefault(name, None)
    return list(seen)


def _listing(method: str, *, with_profile: bool = True) -> Callable:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        profile = _profile(ctx) if with_profile else None
        return _matching(_names(_ask_daemon(method, profile=profile)), incomplete)

    complete.__name__ = f"complete_{method.replace('.', '_')}"
    return complete


def _configured_providers() -> dict:
    try:
        from chatthy import config
        from chatthy.paths import resolve

        return config.load(resolve().config_file, create=False).providers
    except Exception:
        return {}


def complete_providers(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return _matching(sorted(_configured_providers()), incomplete)


def complete_models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The models of the configured providers, then those the profile's chats use."""
    names = sorted({p.model for p in _configured_providers().values()})
    chats = _ask_daemon("chat.list", profile=_profile(ctx))
    if isinstance(chats, list):
        names += sorted({c["model"] for c in chats if isinstance(c, dict) and isinstance(c.get("model"), str)})
    return _matching(names, incomplete)


def complete_templates(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Templates are files (built-in and the user's): no daemon needed."""
    try:
        from chatthy import templates
        from chatthy.paths import resolve

        found, _problems = templates.list_all(resolve().config_dir)
    except Exception:
        return []
    return _matching([t.name for t in found], incomplete)


def complete_workspace(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The files of the workspace the command works on (-c NAME, --profile-wide, or the current chat)."""
    chat = ctx.params.get("chat")
    wide = bool(ctx.params.get("profile_wide"))
    if not chat and not wide:
        try:
            from chatthy.cli.state import ClientState
            from chatthy.paths import resolve

            chat = ClientState.load(resolve()).chat
        except Exception:
            chat = None
    result = _ask_daemon("ws.list", profile=_profile(ctx), chat=None if wide else chat, profile_wide=wide or None)
    return _matching(_names(result), incomplete)


complete_chats = _listing("chat.list")
complete_personas = _listing("persona.list")
complete_profiles = _listing("profile.list", with_profile=False)

COMPLETERS: dict[str, Callable] = {
    "chats": complete_chats, "personas": complete_personas, "profiles": complete_profiles,
    "templates": complete_templates, "workspace": complete_workspace,
    "models": complete_models, "providers": complete_providers,
}
_BY_PARAM = {"chat": "chats", "chats": "chats", "persona": "personas", "personality": "personas",
             "profile": "profiles", "template": "templates", "model": "models", "provider": "providers"}
_BY_GROUP = {"chat": "chats", "persona": "personas", "personality": "personas", "profile": "profiles",
             "template": "templates", "ws": "workspace", "workspace": "workspace"}
_NEW_NAME_VERBS = {"create", "new", "add", "init"}  # their NAME is a new one: nothing to offer


def _kind_for(param: click.Parameter, path: tuple[str, ...]) -> str | None:
    if not isinstance(param.type, click.types.StringParamType):
        return None
    if param.name in _BY_PARAM:
        return _BY_PARAM[param.name]
    if (isinstance(param, click.Argument) and param.name in ("name", "names") and path
            and path[0] in _BY_GROUP and path[-1] not in _NEW_NAME_VERBS):
        return _BY_GROUP[path[0]]
    return None


def attach_completers(command: click.Command, name: str) -> None:
    """Give name-like parameters of ``command`` (and its subcommands) their completer."""

    def walk(cmd: click.Command, path: tuple[str, ...]) -> None:
        for param in cmd.params:
            if getattr(param, "_custom_shell_complete", None) is None:
                kind = _kind_for(param, path)
                if kind is not None:
                    param._custom_shell_complete = COMPLETERS[kind]
        if isinstance(cmd, click.Group):
            for sub_name, sub in cmd.commands.items():
                walk(sub, (*path, sub_name))

    walk(command, (name,))


# -- the command tree the scripts are generated from -----------------------------------------


@dataclass
class OptionSpec:
    names: list[str]
    takes_value: bool
    help: str
    values: tuple[str, ...] | str | None  # choices, "file", "dir", "names", or None


@dataclass
class CommandSpec:
    path: tuple[str, ...]
    help: str
    options: list[OptionSpec] = field(default_factory=list)
    args: tuple[str, ...] | str | None = None  # what the positional arguments complete
    subcommands: list[CommandSpec] = field(default_factory=list)

    @property
    def key(self) -> str:
        return " ".join(self.path)

    def walk(self):
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def _first_sentence(text: str | None) -> str:
    text = " ".join((text or "").split("\b")[0].split())
    end = text.find(". ")
    text = text[: end + 1] if end != -1 else text
    return text if len(text) <= 90 else text[:87].rstrip() + "..."


def _values(param: click.Parameter) -> tuple[str, ...] | str | None:
    if getattr(param, "_custom_shell_complete", None) is not None:
        return "names"
    kind = param.type
    if isinstance(kind, click.Choice):
        return tuple(str(c) for c in kind.choices)
    if isinstance(kind, click.Path):
        return "dir" if kind.dir_okay and not kind.file_okay else "file"
    if isinstance(kind, click.File):
        return "file"
    return None


def _spec(cmd: click.Command, ctx: click.Context, path: tuple[str, ...], help_text: str) -> CommandSpec:
    spec = CommandSpec(path, help_text)
    arg_values = []
    for param in cmd.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if isinstance(param, click.Option):
            takes_value = not param.is_flag and not param.count
            spec.options.append(OptionSpec([*param.opts, *param.secondary_opts], takes_value,
                                           _first_sentence(param.help), _values(param) if takes_value else None))
        elif isinstance(param, click.Argument):
            arg_values.append(_values(param))
    # "names" wins (Click itself then knows which argument is at the cursor), then files.
    for wanted in ("names", "file", "dir"):
        if wanted in arg_values:
            spec.args = wanted
            break
    else:
        spec.args = next((v for v in arg_values if isinstance(v, tuple)), None)
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            if not path:
                attach_completers(sub, name)
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            short = _top_help(name) if not path else sub.get_short_help_str(limit=90)
            spec.subcommands.append(_spec(sub, sub_ctx, (*path, name), short))
    return spec


def _top_help(name: str) -> str:
    from chatthy.cli.main import COMMANDS

    return COMMANDS[name][2]


def command_tree() -> CommandSpec:
    """Every command, option and argument of ``chatthy``, loaded (imports every command)."""
    from chatthy.cli.main import cli

    ctx = click.Context(cli, info_name="chatthy", **cli.context_settings)
    return _spec(cli, ctx, (), _first_sentence(cli.help))


def script(shell: str) -> str:
    from chatthy.cli import completion_shells

    return completion_shells.RENDERERS[shell](command_tree())


def _shell_from_env() -> str | None:
    name = os.path.basename(os.environ.get("SHELL", ""))
    return name if name in SHELLS else None


@click.command()
@click.argument("shell", type=click.Choice(SHELLS), required=False)
def completion(shell: str | None) -> None:
    """Print the completion script for SHELL (default: the one $SHELL names).

    \b
    bash: chatthy completion bash > ~/.local/share/bash-completion/completions/chatthy
    zsh:  chatthy completion zsh > ~/.zfunc/_chatthy
          (and in ~/.zshrc, before compinit: fpath+=(~/.zfunc))
    fish: chatthy completion fish > ~/.config/fish/completions/chatthy.fish

    Names only the daemon knows (chats, personas, …) are completed when it runs.
    """
    shell = shell or _shell_from_env()
    if shell is None:
        raise click.UsageError(f"give the shell: one of {', '.join(SHELLS)}")
    sys.stdout.write(script(shell))


def main(argv: list[str] | None = None) -> None:
    """``python -m chatthy.cli.completion SHELL`` or ``--write DIR`` (all three files)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--write":
        from pathlib import Path

        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for shell, filename in SCRIPT_FILES.items():
            (out / filename).write_text(script(shell), encoding="utf-8")
        return
    if len(argv) != 1 or argv[0] not in SHELLS:
        raise SystemExit(f"usage: python -m chatthy.cli.completion {{{'|'.join(SHELLS)}}} | --write DIR")
    sys.stdout.write(script(argv[0]))


if __name__ == "__main__":
    main()
