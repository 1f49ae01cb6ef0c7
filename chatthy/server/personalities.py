"""Personalities: named system prompts, built in or the user's own, and the tools each asks for.

Built-ins ship as ``chatthy/data/personas/NAME.md`` (the file is the prompt,
after an optional front matter naming its tools: see ``parse_builtin``);
a user's personality of the same name, in the profile, overrides one, tools
included. A chat whose personality is NULL uses ``default``, which always
exists: built in, it is empty (no system prompt: the model's own behaviour),
and the user may override it like any other.

A personality's ``tools`` are a tool choice like a chat's (names, or
``["all"]`` / ``["none"]``), or None when it names none. Where it stands among
the other choices (an ask's -T, the chat's own) is chatthy/server/tool_plan.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from chatthy.errors import BadRequest, NotFound

DEFAULT = "default"
FRONT_MATTER = "---"


@dataclass(frozen=True)
class Persona:
    name: str
    prompt: str
    builtin: bool  # True when the built-in text is in force
    overrides_builtin: bool = False  # a user's personality hiding a built-in one
    updated: str | None = None
    tools: list[str] | None = None  # None: it names no tools

    def to_dict(self) -> dict:
        return {"name": self.name, "prompt": self.prompt, "builtin": self.builtin,
                "overrides_builtin": self.overrides_builtin, "updated": self.updated,
                "tools": list(self.tools) if self.tools is not None else None}


@dataclass(frozen=True)
class BuiltinPersona:
    prompt: str
    tools: list[str] | None = None


def parse_builtin(name: str, text: str) -> BuiltinPersona:
    """A built-in persona file: the prompt, after an optional front matter.

    The front matter is the block between two ``---`` lines at the very top;
    its one key is ``tools``, a list of tool names (``tools: a, b`` or
    ``tools: [a, b]``, or ``all`` / ``none``). Anything else in it is a
    packaging mistake, raised as ValueError (a test reads every built-in).
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER:
        return BuiltinPersona(text.strip())
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER)
    except StopIteration:
        raise ValueError(f"built-in persona {name!r}: front matter is not closed by a '---' line") from None
    tools = None
    for line in lines[1:end]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() != "tools":
            raise ValueError(f"built-in persona {name!r}: unknown front matter line {line!r} (only 'tools:')")
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            value = value[1:-1]
        tools = [v.strip().strip("\"'") for v in value.split(",") if v.strip().strip("\"'")]
    return BuiltinPersona("\n".join(lines[end + 1:]).strip(), tools or None)


@lru_cache(maxsize=1)
def builtin_personas() -> dict[str, BuiltinPersona]:
    folder = files("chatthy") / "data" / "personas"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".md"):
            name = entry.name[:-3]
            found[name] = parse_builtin(name, entry.read_text(encoding="utf-8"))
    found.setdefault(DEFAULT, BuiltinPersona(""))
    return dict(sorted(found.items()))


def stored_name(name: str | None) -> str | None:
    """What a chat row stores: NULL for the default personality."""
    return None if not name or name == DEFAULT else name


def _own(name: str, row, builtins: dict) -> Persona:
    return Persona(name, row.prompt, False, name in builtins, row.updated, row.tools)


def _builtin(name: str, builtin: BuiltinPersona) -> Persona:
    return Persona(name, builtin.prompt, True, tools=builtin.tools)


def find_persona(store, profile, name: str) -> Persona | None:
    builtins = builtin_personas()
    own = store.get_personality(profile.id, name)
    if own is not None:
        return _own(name, own, builtins)
    if name in builtins:
        return _builtin(name, builtins[name])
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
        out.append(_own(name, own[name], builtins) if name in own else _builtin(name, builtins[name]))
    return out


def check_deletable(name: str, found: Persona | None, profile) -> None:
    if found is None:
        raise NotFound(f"personality {name!r} not found in profile {profile.name!r}")
    if found.builtin:
        raise BadRequest(f"personality {name!r} is built in and cannot be deleted "
                         f"(`chatthy persona set {name} …` overrides it)")
