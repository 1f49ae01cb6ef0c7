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
                yield from self.paths.get_completions(Document(arg, len(arg)), complete_event)
                return
            yield from _matches(arg, self._argument_candidates(cmd.complete, arg))
            return
        # In a message: paths, for words that look like one ("./", "../", "~/", "/").
        m = _PATHLIKE.search(text)
        if m:
            word = m.group(1)
            yield from self.paths.get_completions(Document(word, len(word)), complete_event)
