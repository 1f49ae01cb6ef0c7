"""Personalities: named system prompts, built in or the user's own.

Built-ins ship as ``chatthy/data/personas/NAME.md`` (the file is the prompt);
a user's personality of the same name, in the profile, overrides one. A chat
whose personality is NULL uses ``default``, which always exists: built in, it
is empty (no system prompt: the model's own behaviour), and the user may
override it like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from chatthy.errors import BadRequest, NotFound

DEFAULT = "default"


@dataclass(frozen=True)
class Persona:
    name: str
    prompt: str
    builtin: bool  # True when the built-in text is in force
    overrides_builtin: bool = False  # a user's personality hiding a built-in one
    updated: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "prompt": self.prompt, "builtin": self.builtin,
                "overrides_builtin": self.overrides_builtin, "updated": self.updated}


@lru_cache(maxsize=1)
def builtin_personas() -> dict[str, str]:
    folder = files("chatthy") / "data" / "personas"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".md"):
            found[entry.name[:-3]] = entry.read_text(encoding="utf-8").strip()
    found.setdefault(DEFAULT, "")
    return dict(sorted(found.items()))


def stored_name(name: str | None) -> str | None:
    """What a chat row stores: NULL for the default personality."""
    return None if not name or name == DEFAULT else name


def find_persona(store, profile, name: str) -> Persona | None:
    builtins = builtin_personas()
    own = store.get_personality(profile.id, name)
    if own is not None:
        return Persona(name, own.prompt, False, name in builtins, own.updated)
    if name in builtins:
        return Persona(name, builtins[name], True)
    return None


def require_persona(store, profile, name: str | None) -> Persona:
    name = name or DEFAULT
    found = find_persona(store, profile, name)
    if found is None:
        raise NotFound(f"personality {name!r} not found in profile {profile.name!r} "
                       f"(see `chatthy persona list`; create it with `chatthy persona set {name} TEXT`)")
    return found


def list_personas(store, profile) -> list[Persona]:
    builtins = builtin_personas()
    own = {p.name: p for p in store.list_personalities(profile.id)}
    out = []
    for name in sorted(set(builtins) | set(own)):
        if name in own:
            out.append(Persona(name, own[name].prompt, False, name in builtins, own[name].updated))
        else:
            out.append(Persona(name, builtins[name], True))
    return out


def check_deletable(name: str, found: Persona | None, profile) -> None:
    if found is None:
        raise NotFound(f"personality {name!r} not found in profile {profile.name!r}")
    if found.builtin:
        raise BadRequest(f"personality {name!r} is built in and cannot be deleted "
                         f"(`chatthy persona set {name} …` overrides it)")
