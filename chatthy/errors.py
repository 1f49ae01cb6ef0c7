"""The errors chatthy raises, shared by both sides of the wire.

Every error that can cross the wire carries a stable ``code``; the daemon sends
it in an ``error`` frame and the CLI maps it to one line on stderr and an exit
code. Lower-layer errors (SQLite, provider SDKs, sockets) are converted into
these where they cross into chatthy, chained with ``from exc``::

    ChatthyError                      code            exit
    ├── BadRequest                    bad_request        2
    ├── ConfigError                   config_error      10
    ├── NotFound                      not_found          4
    ├── Conflict                      conflict           8
    ├── Busy                          busy               8
    ├── TooLarge                      too_large          7
    ├── Unauthorised                  unauthorised       6
    ├── DaemonUnavailable             unavailable        3
    ├── ProviderError                 provider_error     5
    ├── ContextOverflow               context_overflow   9
    ├── Cancelled                     cancelled        130
    └── InternalError                 internal           1

Wire-level failures (bad frames, signatures, replays) live in
``chatthy.wire.errors`` because the wire package imports nothing of chatthy;
they carry the same codes.
"""

from __future__ import annotations


class ChatthyError(Exception):
    """Base of every error chatthy reports to a user."""

    code = "internal"
    exit_code = 1

    def __init__(self, message: str, *, data: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}

    def to_wire(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.data:
            out["data"] = self.data
        return out


class BadRequest(ChatthyError):
    """The request is malformed or names something invalid."""

    code = "bad_request"
    exit_code = 2


class ConfigError(ChatthyError):
    """config.toml is invalid (the message names file, line and reason)."""

    code = "config_error"
    exit_code = 10


class NotFound(ChatthyError):
    """A named chat, profile, personality, provider, … does not exist."""

    code = "not_found"
    exit_code = 4


class Conflict(ChatthyError):
    """The name is taken, or the state does not allow the operation."""

    code = "conflict"
    exit_code = 8


class Busy(ChatthyError):
    """A limit on concurrent work was hit; try again."""

    code = "busy"
    exit_code = 8


class TooLarge(ChatthyError):
    """Input larger than a configured limit."""

    code = "too_large"
    exit_code = 7


class Unauthorised(ChatthyError):
    """The peer is not allowed: unknown key, bad signature, wrong uid."""

    code = "unauthorised"
    exit_code = 6


class DaemonUnavailable(ChatthyError):
    """No daemon answers and none could be started."""

    code = "unavailable"
    exit_code = 3


class ProviderError(ChatthyError):
    """The LLM provider failed; the message is the provider's own."""

    code = "provider_error"
    exit_code = 5


class ContextOverflow(ChatthyError):
    """The fixed parts of a request alone do not fit the context window."""

    code = "context_overflow"
    exit_code = 9


class Cancelled(ChatthyError):
    """The user cancelled (Ctrl-C or a cancel frame)."""

    code = "cancelled"
    exit_code = 130


class InternalError(ChatthyError):
    """A bug: the daemon caught an unexpected exception."""

    code = "internal"
    exit_code = 1


_BY_CODE: dict[str, type[ChatthyError]] = {
    cls.code: cls
    for cls in (
        BadRequest, ConfigError, NotFound, Conflict, Busy, TooLarge, Unauthorised,
        DaemonUnavailable, ProviderError, ContextOverflow, Cancelled, InternalError,
    )
}
# Wire-level codes that have no class of their own map onto the nearest one.
_BY_CODE["bad_frame"] = BadRequest


def from_wire(payload: dict) -> ChatthyError:
    """Rebuild the error an ``error`` frame describes (unknown codes → InternalError)."""
    code = str(payload.get("code", "internal"))
    message = str(payload.get("message", "unknown error"))
    cls = _BY_CODE.get(code, InternalError)
    err = cls(message, data=payload.get("data") if isinstance(payload.get("data"), dict) else None)
    if cls is InternalError and code != "internal":
        err.code = code
    return err


EXIT_CODES = {cls.exit_code: cls.__name__ for cls in _BY_CODE.values()}


def errors_for_status(end: dict) -> ChatthyError | None:
    """The error a finished reply's ``end`` data stands for, if it did not complete."""
    status = end.get("status")
    if status in (None, "complete"):
        return None
    if status == "cancelled":
        return Cancelled("cancelled: the partial reply is kept in the chat")
    payload = end.get("error") or {"code": "internal", "message": f"reply ended with status {status}"}
    return from_wire(payload)
