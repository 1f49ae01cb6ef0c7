"""``chatthy config path|show|init|edit``: the configuration file of this machine.

These work on the file directly (never through the daemon): config is per
machine, and a broken file must be fixable while no daemon can start. The
daemon reads the file when it starts: restart it to apply a change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import click

from chatthy.cli.output import error_line, is_tty, note, print_json
from chatthy.errors import ConfigError, Conflict

RESTART_HINT = "the daemon reads it at start: `chatthy daemon stop` (it starts again on the next command)"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@click.group()
def config() -> None:
    """The configuration file (config.toml)."""


@config.command()
@click.pass_obj
def path(app) -> None:
    """Print the path of config.toml."""
    click.echo(str(app.paths.config_file))


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def effective(cfg) -> dict:
    """The configuration in force (shipped defaults merged with the file), as config.toml's shape."""
    data: dict = {"default_provider": cfg.default_provider, "providers": {}}
    for name, provider in sorted(cfg.providers.items()):
        fields = dataclasses.asdict(provider)
        fields.pop("name")
        data["providers"][name] = {k: v for k, v in fields.items() if v is not None and v != {}}
    sections = {"tcp": "daemon", "autostart": "client", "truncation": "chat"}
    for f in dataclasses.fields(cfg):
        if f.name in ("path", "default_provider", "providers"):
            continue
        value = getattr(cfg, f.name)
        if f.name in sections:
            data.setdefault(sections[f.name], {})[f.name] = value
        elif isinstance(value, dict) and value:
            data[f.name] = value
    return data


def to_toml(data: dict) -> str:
    lines = [f"default_provider = {_value(data['default_provider'])}"]
    for name, provider in data["providers"].items():
        lines += ["", f"[providers.{_key(name)}]"]
        tables = {k: v for k, v in provider.items() if isinstance(v, dict)}
        lines += [f"{_key(k)} = {_value(v)}" for k, v in provider.items() if k not in tables]
        for sub, values in tables.items():
            lines += [f"[providers.{_key(name)}.{_key(sub)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in values.items()]
    for section, values in data.items():
        if section in ("default_provider", "providers"):
            continue
        lines += ["", f"[{_key(section)}]"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@config.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def show(app, as_json) -> None:
    """Print the configuration in force: your file merged over the shipped defaults."""
    from chatthy import config as config_mod

    data = effective(config_mod.load(app.paths.config_file, create=False))
    if as_json:
        print_json(data)
    else:
        click.echo(to_toml(data), nl=False)


@config.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file (it is kept as config.toml.bak).")
@click.pass_obj
def init(app, force) -> None:
    """Write the commented default config.toml (never over an existing one without --force)."""
    from chatthy import config as config_mod

    target = app.paths.config_file
    if target.exists():
        if not force:
            raise Conflict(f"{target} already exists (overwrite it with `chatthy config init --force`)")
        backup = target.with_name(target.name + ".bak")
        os.replace(target, backup)
        note(f"kept the old file as {backup}")
    config_mod.write_default(target)
    note(f"wrote {target}")


def _write_private(target: Path, text: str) -> None:
    """Replace ``target`` atomically with a 0600 file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)


@config.command()
@click.pass_obj
def edit(app) -> None:
    """Edit config.toml in $EDITOR; it is saved only if it is valid."""
    from chatthy import config as config_mod

    target = app.paths.config_file
    if not target.exists():
        config_mod.write_default(target)
    original = target.read_text(encoding="utf-8")
    text = original
    while True:
        edited = click.edit(text, extension=".toml", require_save=False)
        if edited is None or edited == original:
            note("unchanged")
            return
        try:
            config_mod.parse(edited, target)
        except ConfigError as exc:
            if not (is_tty(click.get_text_stream("stdin")) and is_tty(click.get_text_stream("stderr"))):
                raise ConfigError(f"not saved: {exc.message}") from None
            error_line(exc.message)
            if not click.confirm("Edit again? (no: discard the changes)", default=True, err=True):
                raise ConfigError(f"not saved: {exc.message}") from None
            text = edited
            continue
        _write_private(target, edited)
        note(f"saved {target}; {RESTART_HINT}")
        return
