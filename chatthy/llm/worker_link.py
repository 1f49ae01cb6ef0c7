"""What the daemon and a provider worker say to each other, and how.

A provider worker (``chatthy.llm.worker``) is a child process of the daemon
that runs the provider SDKs: the HTTP requests, the SSE decoding and the
provider's own events. It exists so that the daemon's one event loop is not
also parsing every streamed chunk of every reply (a third of its CPU per
reply): with many replies streaming at once, the loop stays free for clients.

The link is the worker's stdin (daemon → worker) and stdout (worker →
daemon), length-prefixed JSON messages. It is not signed or encrypted: the
pipes are the child's own file descriptors, inherited from the daemon that
started it, and no other process can reach them. It is a process boundary,
not a trust boundary.

Messages are JSON arrays, short to keep a streamed chunk cheap:

daemon → worker::

    ["init", {name: settings, ...}, [sdk kind to import now, ...]]   (first, once)
    ["stream", id, provider name, request]
    ["models", id, provider name]
    ["load", id, provider name]          import the provider's SDK, answer when done
    ["cancel", id]

worker → daemon::

    [id, "text", str]           a TextDelta
    [id, "call", {"id", "name", "arguments"}]
    [id, "usage", {"input_tokens", "output_tokens", "raw"}]
    [id, "done", stop_reason]   the last message of a stream
    [id, "result", value]       the answer to models / load
    [id, "error", {"code", "message", "data"}]   the end of a stream or a call
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from chatthy.errors import ChatthyError, InternalError, from_wire
from chatthy.wire import json_codec
from chatthy.wire.framing import FrameDecoder, encode_frame

from .events import Done, Event, TextDelta, ToolCall, Usage
from .request import ChatRequest

# A sanity bound, not a policy: a request carries the chat's history and its
# images, which the daemon has already limited. A bigger message means a bug.
MAX_MESSAGE = 512 * 1024 * 1024


def encode(message: list) -> bytes:
    # ASCII-escaped: a provider may send a lone surrogate ("\ud800"), which
    # UTF-8 cannot carry but a JSON escape can.
    return encode_frame(json_codec.dumps(message, separators=(",", ":")).encode("ascii"), MAX_MESSAGE)


class MessageDecoder:
    """Bytes from the pipe in, whole messages out."""

    def __init__(self) -> None:
        self._frames = FrameDecoder(MAX_MESSAGE)

    def feed(self, data: bytes) -> list[list]:
        return [json_codec.loads(body.decode("ascii")) for body in self._frames.feed(data)]

    def eof(self) -> None:
        self._frames.eof()


def event_to_wire(event: Event) -> tuple[str, Any]:
    if type(event) is TextDelta:
        return "text", event.text
    if type(event) is Done:
        return "done", event.stop_reason
    if type(event) is ToolCall:
        return "call", {"id": event.id, "name": event.name, "arguments": event.arguments}
    if type(event) is Usage:
        return "usage", {"input_tokens": event.input_tokens, "output_tokens": event.output_tokens,
                         "raw": event.raw}
    raise TypeError(f"not a provider event: {event!r}")


def event_from_wire(kind: str, value: Any) -> Event:
    if kind == "text":
        return TextDelta(value)
    if kind == "done":
        return Done(value)
    if kind == "call":
        return ToolCall(id=value["id"], name=value["name"], arguments=value["arguments"])
    if kind == "usage":
        return Usage(input_tokens=value["input_tokens"], output_tokens=value["output_tokens"],
                     raw=value["raw"])
    raise ValueError(f"unknown event kind {kind!r} from the provider worker")


def request_to_wire(req: ChatRequest) -> dict:
    return {f.name: getattr(req, f.name) for f in fields(req)}


def request_from_wire(data: dict) -> ChatRequest:
    return ChatRequest(**data)


def settings_to_wire(settings: Any) -> dict:
    return asdict(settings)  # config.ProviderConfig, rebuilt from this dict in the worker


def error_to_wire(exc: BaseException) -> dict:
    """Any failure as an error message; what is not a ChatthyError is a bug, said as such."""
    if isinstance(exc, ChatthyError):
        return exc.to_wire()
    return InternalError(f"{type(exc).__name__}: {exc}").to_wire()


def error_from_wire(data: dict) -> ChatthyError:
    return from_wire(data)
