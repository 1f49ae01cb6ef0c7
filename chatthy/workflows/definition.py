"""Workflow files: what they may say, read and checked before anything runs.

A workflow is a TOML file (``<config dir>/workflows/NAME.toml``; a user file
overrides the built-in of the same name)::

    description = "Draft, then critique and revise until the critic approves"
    result = "draft"                 # the output printed at the end (default: the last step's)
    provider = "anthropic"           # defaults for every prompt step (each may set its own)
    model = "claude-sonnet-4-5"
    system = "You are a careful editor."
    tools = ["calculator"]           # tools the model may call in prompt steps

    [vars]                           # defaults of {{variables}}; `chatthy run -v name=value` sets them
    audience = "general readers"

    [[steps]]
    name = "draft"                   # its output is {{draft}} in later steps
    prompt = "Write a short text about {{input}} for {{audience}}."

    [[steps]]
    name = "polish"                  # a loop: its sub-steps repeat…
    repeat_until = "APPROVED"        # …until this text is in the output of `check`…
    check = "critique"               # (default: the last sub-step)
    max = 3                          # …or for at most this many rounds (then the run goes on)

      [[steps.steps]]
      name = "critique"
      prompt = "Critique this text. If it needs no change, answer only APPROVED.\\n\\n{{draft}}"

      [[steps.steps]]
      name = "revise"
      prompt = "Revise the text following the critique.\\n\\nText:\\n{{draft}}\\n\\nCritique:\\n{{critique}}"
      output = "draft"               # also stored as {{draft}}: the next round critiques the revision

A step is one of:

- ``prompt = "…"``: a message to the model (``{{name}}`` placeholders filled in);
- ``template = "NAME"``: an instruction template (``chatthy template list``), whose
  ``{{input}}`` is the step's ``input`` (default ``"{{input}}"``);
- ``tool = "NAME"`` with ``args = {…}``: a tool call (string values are filled in);
- ``steps = [...]``: a group, which only makes sense as a loop.

Any step may loop on its own (``repeat_until`` / ``repeat_until_regex`` and ``max``).
Placeholders: ``{{input}}`` (the run's input), ``{{round}}`` (the loop's round,
from 1), the variables, and the outputs of steps that ran before.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from chatthy.errors import BadRequest, ConfigError, NotFound

SUFFIX = ".toml"
MAX_ROUNDS = 50
MAX_STEPS = 100
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
RESERVED = ("input", "round")

_STEP_FIELDS = {
    "name": str, "prompt": str, "template": str, "input": str, "tool": str, "args": dict, "steps": list,
    "output": str, "provider": str, "model": str, "system": str, "tools": list, "history": bool,
    "repeat_until": str, "repeat_until_regex": str, "max": int, "check": str,
}
_TOP_FIELDS = {
    "description": str, "result": str, "provider": str, "model": str, "system": str, "tools": list,
    "vars": dict, "steps": list,
}


@dataclass(frozen=True)
class Step:
    name: str
    kind: str  # "prompt" | "template" | "tool" | "group"
    prompt: str | None = None
    template: str | None = None
    input: str = "{{input}}"
    tool: str | None = None
    args: dict = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    output: str | None = None
    provider: str | None = None
    model: str | None = None
    system: str | None = None
    tools: tuple[str, ...] | None = None
    history: bool = False
    until: str | None = None
    until_regex: str | None = None
    max: int = 1
    check: str | None = None

    @property
    def loops(self) -> bool:
        return self.max > 1 or self.until is not None or self.until_regex is not None

    def met(self, text: str) -> bool:
        """Is the loop's condition met by ``text``? (A loop without one never is: it runs ``max`` rounds.)"""
        if self.until is not None:
            return self.until in text
        if self.until_regex is not None:
            return re.search(self.until_regex, text, re.MULTILINE) is not None
        return False

    def condition(self) -> str:
        if self.until is not None:
            return f"{self.until!r} in the output"
        if self.until_regex is not None:
            return f"/{self.until_regex}/ in the output"
        return f"{self.max} rounds"

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "kind": self.kind}
        if self.loops:
            out.update(repeat=self.condition(), max=self.max)
        if self.steps:
            out["steps"] = [s.to_dict() for s in self.steps]
        if self.tool:
            out["tool"] = self.tool
        if self.template:
            out["template"] = self.template
        return out


@dataclass(frozen=True)
class Workflow:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    result: str | None = None
    provider: str | None = None
    model: str | None = None
    system: str | None = None
    tools: tuple[str, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)
    origin: str = "builtin"
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "origin": self.origin, "path": self.path,
                "variables": sorted(self.variables()), "defaults": dict(self.defaults),
                "steps": [s.to_dict() for s in self.steps]}

    def variables(self) -> set[str]:
        """Placeholders no step defines: the run's variables (``-v name=value``)."""
        return self._used() - self._defined() - set(RESERVED)

    def _defined(self) -> set[str]:
        names: set[str] = set()
        for step in _walk(self.steps):
            names.add(step.name)
            if step.output:
                names.add(step.output)
        return names

    def _used(self) -> set[str]:
        used: set[str] = set()
        for step in _walk(self.steps):
            for text in _texts(step):
                used.update(m.group(1) for m in _PLACEHOLDER.finditer(text))
        return used


def _walk(steps):
    for step in steps:
        yield step
        yield from _walk(step.steps)


def _texts(step: Step):
    if step.prompt:
        yield step.prompt
    if step.kind == "template":
        yield step.input
    if step.system:
        yield step.system
    yield from _strings(step.args)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _check_fields(where: str, raw: dict, known: dict) -> None:
    for key, value in raw.items():
        want = known.get(key)
        if want is None:
            raise _fail(where, f"unknown field {key!r} (known: {', '.join(known)})")
        if not isinstance(value, want) or (isinstance(value, bool) and want is not bool):
            kind = {str: "a string", dict: "a table", list: "a list", bool: "true or false", int: "a number"}[want]
            raise _fail(where, f"{key} must be {kind}")


def _str_list(where: str, key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value):
        raise _fail(where, f"{key} must be a list of strings")
    return tuple(value)


def _step(where: str, raw: Any, *, nested: bool) -> Step:
    if not isinstance(raw, dict):
        raise _fail(where, "each step must be a table ([[steps]])")
    name = raw.get("name")
    where = f"{where} {name!r}" if isinstance(name, str) else where
    _check_fields(where, raw, _STEP_FIELDS)
    if not name or not _IDENT.match(name) or name in RESERVED:
        raise _fail(where, "every step needs a name: letters, digits and _ (not 'input' or 'round')")
    kinds = [k for k in ("prompt", "template", "tool", "steps") if k in raw]
    if len(kinds) != 1:
        raise _fail(where, "a step is exactly one of: prompt = \"…\", template = \"NAME\", tool = \"NAME\", "
                           "or steps = [...]")
    kind = {"steps": "group"}.get(kinds[0], kinds[0])
    if kind == "group" and nested:
        raise _fail(where, "a group's steps cannot be groups themselves")
    if "args" in raw and kind != "tool":
        raise _fail(where, "args only go with tool = \"NAME\"")
    if "input" in raw and kind != "template":
        raise _fail(where, "input only goes with template = \"NAME\" (a prompt says everything itself)")
    if raw.get("output") is not None and (not _IDENT.match(raw["output"]) or raw["output"] in RESERVED):
        raise _fail(where, "output must be a name: letters, digits and _ (not 'input' or 'round')")
    if "repeat_until" in raw and "repeat_until_regex" in raw:
        raise _fail(where, "give repeat_until or repeat_until_regex, not both")
    if "repeat_until_regex" in raw:
        try:
            re.compile(raw["repeat_until_regex"])
        except re.error as exc:
            raise _fail(where, f"repeat_until_regex is not a valid regular expression: {exc}") from None
    looping = "repeat_until" in raw or "repeat_until_regex" in raw
    rounds = raw.get("max", 3 if looping else 1)
    if not 1 <= rounds <= MAX_ROUNDS:
        raise _fail(where, f"max must be between 1 and {MAX_ROUNDS}")
    if kind == "group" and not (looping or rounds > 1):
        raise _fail(where, "a group of steps only makes sense as a loop: give repeat_until or max")
    sub = tuple(_step(f"{where}: step {i + 1}", s, nested=True) for i, s in enumerate(raw.get("steps") or ()))
    if kind == "group" and not sub:
        raise _fail(where, "steps = [] is empty")
    check = raw.get("check")
    if check is not None and check not in {s.name for s in sub}:
        raise _fail(where, f"check = {check!r} names none of this loop's steps")
    if kind == "prompt" and not raw["prompt"].strip():
        raise _fail(where, "the prompt is empty")
    return Step(
        name=name, kind=kind, prompt=raw.get("prompt"), template=raw.get("template"),
        input=raw.get("input", "{{input}}"), tool=raw.get("tool"), args=dict(raw.get("args") or {}),
        steps=sub, output=raw.get("output"), provider=raw.get("provider"), model=raw.get("model"),
        system=raw.get("system"), tools=_str_list(where, "tools", raw.get("tools")),
        history=raw.get("history", False), until=raw.get("repeat_until"),
        until_regex=raw.get("repeat_until_regex"), max=rounds, check=check,
    )


def parse(name: str, text: str, *, origin: str = "user", path: str | None = None) -> Workflow:
    """A workflow from its file's text; ConfigError naming the file and the problem."""
    where = path or f"workflow {name!r}"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(where, f"invalid TOML: {exc}") from None
    _check_fields(where, raw, _TOP_FIELDS)
    steps_raw = raw.get("steps")
    if not steps_raw:
        raise _fail(where, "no steps: add [[steps]] tables")
    steps = tuple(_step(f"{where}: step {i + 1}", s, nested=False) for i, s in enumerate(steps_raw))
    names = [s.name for s in _walk(steps)]
    if len(names) > MAX_STEPS:
        raise _fail(where, f"more than {MAX_STEPS} steps")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(where, f"step names must be unique: {', '.join(duplicates)} appear more than once")
    defaults = raw.get("vars") or {}
    for key, value in defaults.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _fail(where, f"vars.{key} must be a string")
    workflow = Workflow(
        name=name, steps=steps, description=str(raw.get("description", "")).strip(), result=raw.get("result"),
        provider=raw.get("provider"), model=raw.get("model"), system=raw.get("system"),
        tools=_str_list(where, "tools", raw.get("tools")) or (), defaults={k: str(v) for k, v in defaults.items()},
        origin=origin, path=path,
    )
    if workflow.result is not None and workflow.result not in workflow._defined():
        raise _fail(where, f"result = {workflow.result!r} is not the name or output of a step")
    return workflow


# -- where workflows live -------------------------------------------------------

def user_dir(config_dir: Path) -> Path:
    return Path(config_dir) / "workflows"


def _builtin() -> dict[str, Any]:
    folder = files("chatthy") / "data" / "workflows"
    return {e.name[:-len(SUFFIX)]: e for e in folder.iterdir() if e.name.endswith(SUFFIX)}


def _user(config_dir: Path) -> dict[str, Path]:
    folder = user_dir(config_dir)
    if not folder.is_dir():
        return {}
    return {p.name[:-len(SUFFIX)]: p for p in folder.iterdir()
            if p.name.endswith(SUFFIX) and p.is_file() and _NAME.match(p.name[:-len(SUFFIX)])}


def load(name: str, config_dir: Path) -> Workflow:
    """The user's workflow NAME if there is one, else the built-in one."""
    if not _NAME.match(name) or ".." in name:
        raise BadRequest(f"invalid workflow name {name!r}: use letters, digits, '-', '_' and '.'")
    path = _user(config_dir).get(name)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        return parse(name, text, origin="user", path=str(path))
    entry = _builtin().get(name)
    if entry is None:
        known = ", ".join(sorted(set(_builtin()) | set(_user(config_dir)))) or "none"
        raise NotFound(f"no workflow named {name!r} (known: {known}; add your own as "
                       f"{user_dir(config_dir) / (name + SUFFIX)})")
    return parse(name, entry.read_text(encoding="utf-8"), origin="builtin")


def list_all(config_dir: Path) -> tuple[list[Workflow], list[str]]:
    """Every workflow (user files override built-ins), and the problems of broken files."""
    out, problems = [], []
    for name in sorted(set(_builtin()) | set(_user(config_dir))):
        try:
            out.append(load(name, config_dir))
        except (ConfigError, BadRequest) as exc:
            problems.append(exc.message)
    return out, problems
