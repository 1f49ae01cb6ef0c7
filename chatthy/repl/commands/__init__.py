"""The REPL's command table.

A command is one decorated function in one of ``MODULES``::

    @command("copy", usage="[N]", help="Copy the last reply (or its Nth code block)", complete="number")
    async def copy(repl, arg: str) -> None: ...

A later feature adds its commands (``/load``, ``/drop``, ``/rag``, ``/t``,
``/image``, ``/tools``) in its own module here and one line in ``MODULES``:
help, completion and dispatch pick them up from the table. ``complete`` names
what the argument completes from: ``chat``, ``persona``, ``profile``,
``provider``, ``model``, ``style``, ``path``, ``onoff``, or a tuple of words.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable

if TYPE_CHECKING:
    from chatthy.repl.app import Repl

Handler = Callable[["Repl", str], Awaitable[None]]

MODULES = (
    "chatthy.repl.commands.session",
    "chatthy.repl.commands.chats",
    "chatthy.repl.commands.settings",
    "chatthy.repl.commands.clipboard",
    "chatthy.repl.commands.rag",
    "chatthy.repl.commands.image",
    "chatthy.repl.commands.search",
    "chatthy.repl.commands.options",
)


@dataclass(frozen=True)
class Command:
    name: str
    func: Handler
    help: str
    usage: str = ""
    aliases: tuple[str, ...] = ()
    complete: str | tuple[str, ...] | None = None
    idle: bool = False  # refuses to run while a reply streams in the chat

    @property
    def synopsis(self) -> str:
        return f"/{self.name}" + (f" {self.usage}" if self.usage else "")


REGISTRY: dict[str, Command] = {}
_ALIASES: dict[str, str] = {}


def command(name: str, *, help: str, usage: str = "", aliases: tuple[str, ...] = (),
            complete: str | tuple[str, ...] | None = None, idle: bool = False) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if name in REGISTRY or name in _ALIASES:
            raise RuntimeError(f"REPL command /{name} registered twice")
        REGISTRY[name] = Command(name, func, help, usage, aliases, complete, idle)
        for alias in aliases:
            _ALIASES[alias] = name
        return func

    return register


_loaded = False


def load() -> dict[str, Command]:
    global _loaded
    if not _loaded:
        for module in MODULES:
            importlib.import_module(module)
        _loaded = True
    return REGISTRY


def lookup(name: str) -> Command | None:
    load()
    name = name.lower()
    return REGISTRY.get(_ALIASES.get(name, name))


def names() -> list[str]:
    return sorted(load())


def parse(line: str) -> tuple[str, str]:
    """``"/chat  my notes "`` → ``("chat", "my notes")``."""
    text = line.strip()
    if text.startswith("/"):
        text = text[1:]
    name, _, arg = text.partition(" ")
    return name.strip(), arg.strip()
