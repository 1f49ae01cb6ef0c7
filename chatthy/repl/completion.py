"""Tab completion: command names, then each command's argument, and file paths.

Names come from a cache (``repl.names``, refreshed after anything that may
change them), so completing never waits on the daemon, let alone on a
provider's API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from chatthy.repl import commands

if TYPE_CHECKING:
    from chatthy.repl.app import Repl

_PATHLIKE = re.compile(r"(?:^|\s)((?:~|\.{1,2})?/[^\s]*|~)$")


@dataclass
class Names:
    chats: list[str] = field(default_factory=list)
    personalities: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    models: dict[str, list[str]] = field(default_factory=dict)

    def update(self, data: dict) -> None:
        self.chats = list(data.get("chats") or [])
        self.personalities = list(data.get("personalities") or [])
        self.profiles = list(data.get("profiles") or [])
        self.providers = list(data.get("providers") or [])
        models = data.get("models") or {}
        for provider, found in models.items():
            known = set(self.models.get(provider, ()))
            self.models[provider] = sorted(known | set(found))

    def add_models(self, rows: list[dict]) -> None:
        for row in rows:
            provider, model = row.get("provider"), row.get("model")
            if provider and model:
                found = self.models.setdefault(provider, [])
                if model not in found:
                    found.append(model)
                    found.sort()


def _matches(word: str, candidates: Iterable[str], meta: str = "") -> Iterable[Completion]:
    lower = word.lower()
    for candidate in candidates:
        if candidate.lower().startswith(lower):
            yield Completion(candidate, start_position=-len(word), display_meta=meta)
    for candidate in candidates:  # then anything containing it
        if lower and lower in candidate.lower() and not candidate.lower().startswith(lower):
            yield Completion(candidate, start_position=-len(word), display_meta=meta)


# How /image splits PATH… (shlex.split, POSIX): these end a word or need quoting.
_SHELL_SPACE = " \t\r\n"
_NEEDS_QUOTES = frozenset(_SHELL_SPACE + "\x0b\x0c'\"\\")
_TYPED_QUOTING = _NEEDS_QUOTES - {" "}  # in an argument: the user quoted or escaped something


@dataclass(frozen=True)
class ShellWord:
    """The last word of a command's argument, read as ``shlex.split`` reads it."""

    text: str  # unquoted: what the command will see
    start: int  # where its raw form (quotes and all) starts in the argument
    quote: str  # the quote the user opened it with ("" for none)


def last_shell_word(arg: str) -> ShellWord:
    """The word the cursor is in: ``a.png "my ph`` → ``my ph`` (from 7, opened with ``"``).

    A word the user is still typing may have an open quote or a lone trailing
    backslash: ``shlex`` refuses those, and completion must not.
    """
    start, text, quote, opened, in_word = len(arg), [], "", "", False
    i = 0
    while i < len(arg):
        c = arg[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                text.append(c)
        elif quote == '"':
            if c == '"':
                quote = ""
            elif c == "\\" and i + 1 < len(arg) and arg[i + 1] in '"\\':
                i += 1
                text.append(arg[i])
            elif c != "\\" or i + 1 < len(arg):
                text.append(c)
        elif c in _SHELL_SPACE:
            start, text, opened, in_word = len(arg), [], "", False
        else:
            if not in_word:
                start, in_word = i, True
            if c in "'\"":
                quote = c
                opened = opened or c
            elif c == "\\":
                if i + 1 < len(arg):
                    i += 1
                    text.append(arg[i])
            else:
                text.append(c)
        i += 1
    return ShellWord("".join(text), start, opened)


def shell_quoted(path: str, quote: str = "") -> str:
    """``path`` as one word for ``shlex.split``, in the user's quotes if they opened some."""
    if not quote and not any(c in _NEEDS_QUOTES for c in path):
        return path
    if quote == "'" and "'" not in path:
        return f"'{path}'"
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ReplCompleter(Completer):
    def __init__(self, repl: Repl) -> None:
        self.repl = repl
        self.paths = PathCompleter(expanduser=True)

    def _argument_candidates(self, kind, word: str) -> Iterable[str]:
        names = self.repl.names
        if isinstance(kind, tuple):
            return kind
        if kind == "chat":
            return names.chats
        if kind == "persona":
            return names.personalities
        if kind == "profile":
            return names.profiles
        if kind == "provider":
            return names.providers
        if kind == "model":
            self.repl.want_api_models()
            provider = self.repl.chat.provider
            models = names.models.get(provider or "", [])
            others = [m for p, ms in names.models.items() if p != provider for m in ms]
            return list(dict.fromkeys([*models, *others]))
        if kind == "style":
            from chatthy.render.theme import style_names

            return style_names()
        if kind == "onoff":
            return ("on", "off")
        if kind == "command":
            return commands.names()
        return ()

    def _path_word(self, arg: str, complete_event) -> Iterable[Completion]:
        """Complete the argument's last word as a path (``/image a.png b<Tab>``), quoted as needed.

        A name with a space comes back quoted (``"my photo.png"``), which the
        command unquotes. An unquoted argument with spaces may also be one
        path (``/image my ph<Tab>``: /image takes one existing file with spaces
        as it is), so it is completed as a whole too.
        """
        word = last_shell_word(arg)
        raw = arg[word.start:]
        yield from self._paths_for(word.text, raw, word.quote, complete_event)
        stripped = arg.lstrip()
        if word.start > len(arg) - len(stripped) and not any(c in _TYPED_QUOTING for c in stripped):
            yield from self._paths_for(stripped, stripped, "", complete_event)

    def _paths_for(self, path: str, raw: str, quote: str, complete_event) -> Iterable[Completion]:
        for found in self.paths.get_completions(Document(path, len(path)), complete_event):
            full = path + found.text
            if raw == path and shell_quoted(full) == full:
                yield found  # as typed, and no quotes needed: just the rest of the name
            else:
                yield Completion(shell_quoted(full, quote), start_position=-len(raw), display=found.display)

    def get_completions(self, document: Document, complete_event) -> Iterable[Completion]:
        text = document.text_before_cursor
        command_mode = self.repl.modes.command
        if text.startswith("/") or (command_mode and not text.startswith(" ")):
            body = text[1:] if text.startswith("/") else text
            if " " not in body:
                for name in commands.names():
                    cmd = commands.lookup(name)
                    if name.startswith(body.lower()):
                        yield Completion(name, start_position=-len(body), display=cmd.synopsis,
                                         display_meta=cmd.help)
                return
            name, _, arg = body.partition(" ")
            cmd = commands.lookup(name)
            if cmd is None or cmd.complete is None:
                return
            if cmd.complete == "path":
                yield from self._path_word(arg, complete_event)
                return
            yield from _matches(arg, self._argument_candidates(cmd.complete, arg))
            return
        # In a message: paths, for words that look like one ("./", "../", "~/", "/").
        m = _PATHLIKE.search(text)
        if m:
            word = m.group(1)
            yield from self.paths.get_completions(Document(word, len(word)), complete_event)
