"""Declarative validation of RPC parameters.

Every method declares its parameters; anything else in ``params`` is refused,
so a typo in a client never silently does the default thing. Validation
errors are ``BadRequest`` naming the method, the parameter and the reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from chatthy.errors import BadRequest

MAX_NAME = 200
MAX_TEXT = 8 * 1024 * 1024  # a prompt or pasted document; frames cap the rest


def check_name(value: str, what: str = "name") -> str:
    """A user-chosen name (chat, profile, personality): data, never a path.

    Stripped; 1..200 characters; no control or format characters (they would
    let a name drive the terminal when listed, or hide characters).
    """
    name = value.strip()
    if not name:
        raise BadRequest(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise BadRequest(f"{what} is longer than {MAX_NAME} characters")
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            raise BadRequest(f"{what} {name!r} contains a control character (U+{ord(ch):04X})")
    return name


@dataclass(frozen=True)
class Param:
    kind: str  # "str" | "name" | "text" | "int" | "bool" | "strlist" | "dict"
    required: bool = False
    default: Any = None
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None


def Str(required=False, default=None, max=10_000, choices=None) -> Param:  # noqa: N802
    return Param("str", required, default, max=max, choices=choices)


def Name(required=False, default=None) -> Param:  # noqa: N802
    return Param("name", required, default)


def Text(required=False, default=None) -> Param:  # noqa: N802
    return Param("text", required, default, max=MAX_TEXT)


def Int(required=False, default=None, min=None, max=None) -> Param:  # noqa: N802
    return Param("int", required, default, min=min, max=max)


def Bool(default=False) -> Param:  # noqa: N802
    return Param("bool", False, default)


def StrList(default=(), max=1000) -> Param:  # noqa: N802
    return Param("strlist", False, default, max=max)


def Dict(default=None) -> Param:  # noqa: N802
    return Param("dict", False, default)


def validate(method: str, schema: dict[str, Param], params: dict) -> dict:
    unknown = sorted(set(params) - set(schema))
    if unknown:
        raise BadRequest(f"{method}: unknown parameter {unknown[0]!r}")
    out: dict[str, Any] = {}
    for key, spec in schema.items():
        if key not in params or params[key] is None:
            if spec.required:
                raise BadRequest(f"{method}: missing parameter {key!r}")
            out[key] = list(spec.default) if spec.kind == "strlist" else spec.default
            continue
        out[key] = _check(method, key, spec, params[key])
    return out


def _check(method: str, key: str, spec: Param, value: Any) -> Any:
    def bad(reason: str) -> BadRequest:
        return BadRequest(f"{method}: parameter {key!r} {reason}")

    if spec.kind in ("str", "name", "text"):
        if not isinstance(value, str):
            raise bad("must be a string")
        if spec.kind == "name":
            try:
                return check_name(value, key)
            except BadRequest as exc:
                raise bad(f"is invalid: {exc.message}") from None
        if spec.max is not None and len(value) > spec.max:
            raise bad(f"is longer than {spec.max:,} characters")
        if spec.choices and value not in spec.choices:
            raise bad(f"must be one of {', '.join(spec.choices)}")
        return value
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("must be an integer")
        if spec.min is not None and value < spec.min:
            raise bad(f"must be at least {spec.min}")
        if spec.max is not None and value > spec.max:
            raise bad(f"must be at most {spec.max}")
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if spec.kind == "strlist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("must be a list of strings")
        if len(value) > (spec.max or 0):
            raise bad(f"has more than {spec.max} items")
        return value
    if spec.kind == "dict":
        if not isinstance(value, dict):
            raise bad("must be an object")
        return value
    raise AssertionError(spec.kind)
