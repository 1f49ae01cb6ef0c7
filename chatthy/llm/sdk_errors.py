"""Convert what the provider SDKs raise into one-line ``ProviderError``\\ s.

The SDK exceptions are recognised by class name and top-level module rather
than imported, so this module costs nothing to import and treats the openai
and anthropic families alike (both are Stainless-generated and share names).
Mid-stream transport failures are not always wrapped by the SDKs (anthropic
lets httpx2's ReadTimeout / RemoteProtocolError through while openai wraps
them), so the transport classes are recognised too, anywhere in the chain of
causes. Under the aiohttp transport the SDKs' adapter maps every aiohttp
connection error, a refused connect included, to httpx's ConnectTimeout; the
aiohttp error it chains says what really happened, so it is believed first.

Messages look like::

    openai (gpt-4o-mini): 429 rate limited: <the provider's own message>
    anthropic: cannot connect to http://127.0.0.1:9/: connection refused
    tabby: read timed out after 120 s

and ``data`` carries ``provider``, ``model``, ``status`` and ``retry_after``
(``None`` where unknown).
"""

from __future__ import annotations

import email.utils
import errno
import json
import socket
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from chatthy.errors import ProviderError

_SDKS = ("openai", "anthropic")
_TRANSPORTS = ("httpx2", "httpx", "httpcore2", "httpcore", "h11", "anyio", "aiohttp")
_MAX_MESSAGE = 500

# Short words for the statuses users meet; others use the HTTP reason phrase.
_STATUS_WORDS = {
    400: "bad request",
    401: "authentication failed",
    402: "payment required",
    403: "permission denied",
    404: "not found",
    408: "request timeout",
    409: "conflict",
    413: "request too large",
    422: "unprocessable request",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
    529: "overloaded",
}


def to_provider_error(exc: BaseException, *, provider: str, model: str | None = None,
                      base_url: str | None = None, timeout: float | None = None,
                      connect_timeout: float | None = None) -> ProviderError:
    """The ``ProviderError`` for ``exc``; the caller raises it ``from exc``."""
    if isinstance(exc, ProviderError):
        return exc
    label = f"{provider} ({model})" if model else provider
    data: dict[str, Any] = {"provider": provider, "model": model, "status": None, "retry_after": None}

    if _is_sdk(exc, "APIStatusError"):
        status = getattr(exc, "status_code", None)
        message, error_type = _provider_message(exc)
        if isinstance(status, int) and status >= 400:
            data["status"] = status
            data["retry_after"] = _retry_after(getattr(exc, "response", None))
            text = f"{label}: {status} {status_word(status)}: {message}"
        else:
            # An error event inside a 200 stream (anthropic raises it as a status error).
            text = f"{label}: error during stream: {message}"
        if error_type:
            data["error_type"] = error_type
            if data["status"] is None and error_type not in message:
                text += f" ({error_type})"  # the only hint of what kind of failure it was
        return ProviderError(_one_line(text), data=data)

    if _is_sdk(exc, "APIResponseValidationError"):
        return ProviderError(_one_line(f"{label}: malformed response: {exc}"), data=data)

    timeout_kind = _timeout_kind(exc)
    if timeout_kind is not None:
        data["timeout"] = timeout_kind
        where = base_url or "the server"
        if timeout_kind == "connect":
            text = f"{provider}: cannot connect to {where}: timed out after {_secs(connect_timeout)} s"
        elif timeout_kind == "pool":
            text = f"{provider}: no free connection to {where} within {_secs(timeout)} s"
        else:
            text = f"{provider}: {timeout_kind} timed out after {_secs(timeout)} s"
        return ProviderError(text, data=data)

    if _is_sdk(exc, "APIConnectionError") or _find_transport(exc) is not None:
        reason = _transport_reason(exc)
        if _in_chain(exc, "ConnectError") or _refused(exc):
            text = f"{provider}: cannot connect to {base_url or 'the server'}: {reason}"
        else:
            text = f"{label}: connection lost: {reason}"
        return ProviderError(_one_line(text), data=data)

    if _is_sdk(exc, "APIError"):
        # openai raises an ``{"error": …}`` line inside a 200 stream as a bare APIError.
        message, error_type = _provider_message(exc)
        if error_type:
            data["error_type"] = error_type
        return ProviderError(_one_line(f"{label}: error during stream: {message}"), data=data)

    if isinstance(exc, ValueError) or _in_chain(exc, "DecodingError"):
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors: a garbled SSE line.
        return ProviderError(_one_line(f"{label}: malformed response from server: {exc}"), data=data)

    detail = str(exc) or type(exc).__name__
    if not _is_sdk(exc, "OpenAIError") and not _is_sdk(exc, "AnthropicError"):
        detail = f"{type(exc).__name__}: {detail}"
    return ProviderError(_one_line(f"{label}: {detail}"), data=data)


def status_word(status: int) -> str:
    word = _STATUS_WORDS.get(status)
    if word:
        return word
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


# -- recognising exceptions ---------------------------------------------------

def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # __context__ too, even when suppressed: httpcore raises its ConnectError
        # ``from None``, hiding the ConnectionRefusedError that says what happened.
        current = current.__cause__ or current.__context__


def _class_names(exc: BaseException, roots: tuple[str, ...]) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__
            if cls.__module__.split(".", 1)[0] in roots}


def _is_sdk(exc: BaseException, name: str) -> bool:
    return name in _class_names(exc, _SDKS)


def _in_chain(exc: BaseException, name: str) -> bool:
    return any(name in _class_names(e, _TRANSPORTS) for e in _chain(exc))


def _find_transport(exc: BaseException) -> BaseException | None:
    for e in _chain(exc):
        names = _class_names(e, _TRANSPORTS)
        if names & {"TransportError", "RequestError", "NetworkError", "ProtocolError",
                    "EndOfStream", "BrokenResourceError", "ClosedResourceError", "ClientError"}:
            return e
    return None


def _timeout_kind(exc: BaseException) -> str | None:
    for e in _chain(exc):
        names = _class_names(e, ("aiohttp",))
        if names:
            if "ConnectionTimeoutError" in names:
                return "connect"
            if "ServerTimeoutError" in names:  # SocketTimeoutError: sock_read
                return "read"
            return None  # refused, reset, disconnected: not a timeout, whatever it was mapped to
    for e in _chain(exc):
        names = _class_names(e, _TRANSPORTS)
        for kind in ("connect", "read", "write", "pool"):
            if f"{kind.capitalize()}Timeout" in names:
                return kind
        if "TimeoutException" in names:
            return "read"
    if _is_sdk(exc, "APITimeoutError"):
        return "read"
    return None


def _refused(exc: BaseException) -> bool:
    return any(isinstance(e, (ConnectionRefusedError, socket.gaierror)) for e in _chain(exc))


def _transport_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, socket.gaierror):
            return f"host not found ({e.strerror or e})"
        if isinstance(e, OSError) and e.errno is not None:
            if e.errno == errno.ECONNREFUSED:
                return "connection refused"
            if e.errno == errno.ECONNRESET:
                return "connection reset by peer"
            return (e.strerror or str(e)).lower()
    for e in _chain(exc):
        if _class_names(e, _TRANSPORTS) and str(e):
            text = str(e)
            # httpx reports a refused connect as "[Errno 111] Connection refused" or
            # "All connection attempts failed" depending on the backend.
            if "refused" in text.lower():
                return "connection refused"
            return text
    return str(exc) or type(exc).__name__


# -- reading what the provider said ---------------------------------------------

def _provider_message(exc: BaseException) -> tuple[str, str | None]:
    """The provider's own error message and type, from the body it sent."""
    body = getattr(exc, "body", None)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            if body.lstrip().startswith("<"):
                return "the server answered with an HTML error page (a proxy or gateway?)", None
            return (body.strip() or str(exc)), None
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        message = error.get("message")
        etype = error.get("type") if isinstance(error.get("type"), str) else None
        if isinstance(message, str) and message.strip():
            return message.strip(), etype
        if isinstance(body.get("detail"), str):  # FastAPI-style servers (vLLM, tabbyAPI)
            return body["detail"], etype
        if isinstance(body.get("error"), str):  # Ollama / llama.cpp style
            return body["error"], etype
    return (getattr(exc, "message", None) or str(exc) or type(exc).__name__), None


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000
    except (TypeError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_tz(value)
        return max(0.0, float(email.utils.mktime_tz(parsed) - time.time())) if parsed else None
    except (TypeError, ValueError, OverflowError):
        return None


def _secs(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
