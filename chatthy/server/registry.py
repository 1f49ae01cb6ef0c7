"""The method table: one registry, filled by the handler modules.

Each handler module (``chatthy.server.handlers.<family>``) registers its
methods with ``@method(...)``; the connection looks the name up here and never
dispatches anything that is not registered (unknown → ``bad_request``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from chatthy.errors import BadRequest
from chatthy.server.params import Param, validate

if TYPE_CHECKING:
    from chatthy.server.connection import RequestContext

Handler = Callable[["RequestContext", dict], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    name: str
    func: Handler
    schema: dict[str, Param]
    streaming: bool

    def validate(self, params: dict) -> dict:
        return validate(self.name, self.schema, params)


_METHODS: dict[str, Method] = {}


def method(name: str, /, *, streaming: bool = False, **schema: Param) -> Callable[[Handler], Handler]:
    """Register ``func`` as the handler of ``name`` with its parameter schema.

    A streaming handler sends ``chunk`` frames through its context and returns
    the data of the closing ``end`` frame; a plain one just returns its result.
    """

    def register(func: Handler) -> Handler:
        if name in _METHODS:
            raise RuntimeError(f"method {name} registered twice")
        _METHODS[name] = Method(name, func, dict(schema), streaming)
        return func

    return register


def lookup(name: str) -> Method:
    try:
        return _METHODS[name]
    except KeyError:
        raise BadRequest(f"unknown method {name!r}") from None


def names() -> list[str]:
    return sorted(_METHODS)
