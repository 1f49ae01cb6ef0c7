"""What a fake provider replies, independent of the API that carries it.

A test queues replies with ``FakeProviderServer.script(...)``; each completion
request consumes one. ``openai_stream`` and ``anthropic_stream`` render a reply
into their API's wire format as a sequence of *steps*: ``bytes`` to send, or a
control step (``Sleep``, ``ResetConnection``) that the server carries out in
between, so failures happen at an exact point of the stream.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass
class Text:
    """A plain reply streamed as ``chunks``; ``usage=(input, output)`` or computed."""

    chunks: list[str]
    delay: float = 0.0
    usage: tuple[int, int] | None = None
    # Benchmarks: each chunk (OpenAI format) starts with "@<time.monotonic_ns()> "
    # taken as it is sent, so a client can tell how late it arrived.
    stamp: bool = False


@dataclass
class ToolCalls:
    """One or more tool calls, optionally preceded by text.

    ``calls`` are (id, name, args); args is a dict, or a string sent verbatim
    as the arguments JSON (to test what a client does with broken JSON).
    """

    calls: list[tuple[str, str, dict | str]]
    text_before: str = ""


@dataclass
class HttpError:
    """An HTTP error status with a body in the API's own error shape.

    ``body`` replaces the generated body verbatim; ``message`` only changes the
    message inside the generated one. A 429 without a retry-after header gets a
    short one, so SDK retries stay fast in tests.
    """

    status: int
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    message: str | None = None


@dataclass
class StreamError:
    """``after_chunks`` text chunks, then an error event inside the 200 stream."""

    after_chunks: int
    message: str
    error_type: str = "api_error"


@dataclass
class Reset:
    """``after_chunks`` text chunks, then the TCP connection is reset (RST)."""

    after_chunks: int


@dataclass
class Truncated:
    """``after_chunks`` text chunks, then a clean end of the body: no final events."""

    after_chunks: int


@dataclass
class Malformed:
    """``after_chunks`` text chunks, then an event whose data is not JSON."""

    after_chunks: int


@dataclass
class Stall:
    """``after_chunks`` text chunks, silence for ``seconds``, then a normal end."""

    after_chunks: int
    seconds: float


Reply = Union[Text, ToolCalls, HttpError, StreamError, Reset, Truncated, Malformed, Stall]

# The text chunk that failure replies send before they fail.
FILLER = "tok "


def Chunks(n: int, text: str = FILLER, *, delay: float = 0.0,  # noqa: N802 - reads as a reply type
           usage: tuple[int, int] | None = None) -> Text:
    """``n`` identical chunks (benchmarks stream 20 and 10,000 of them)."""
    return Text([text] * n, delay=delay, usage=usage)


@dataclass(frozen=True)
class Sleep:
    """Control step: pause the stream (interrupted when the server stops)."""

    seconds: float


class ResetConnection:
    """Control step: abort the TCP connection with an RST."""


RESET = ResetConnection()
Step = Union[bytes, Sleep, ResetConnection]


@dataclass
class RecordedRequest:
    """One request the fake received. ``headers`` keys are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


def message_text(content: Any) -> str:
    """The text of a message's content in either API's shape (str or blocks)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.append(message_text(block.get("content", "")))
    return " ".join(p for p in parts if p)


def last_user_text(messages: Any) -> str:
    """The text of the last message a user (or a tool) sent."""
    if not isinstance(messages, list):
        return ""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") in ("user", "tool"):
            return message_text(msg.get("content", ""))
    return ""


def word_chunks(text: str) -> list[str]:
    """Split into words, each keeping its trailing space, so ''.join() restores it."""
    return re.findall(r"\S+\s*", text) or [text]


def default_reply(body: Any) -> Text:
    """The deterministic reply when nothing is scripted: an echo of the user."""
    messages = body.get("messages") if isinstance(body, dict) else None
    return Text(word_chunks("You said: " + last_user_text(messages)))


def prompt_tokens(body: Any) -> int:
    """A deterministic stand-in for the prompt's token count: its word count."""
    if not isinstance(body, dict):
        return 0
    words = 0
    system = body.get("system")
    if system:
        words += len(message_text(system).split())
    for msg in body.get("messages") or []:
        if isinstance(msg, dict):
            words += len(message_text(msg.get("content", "")).split())
    return words


def text_of(reply: Reply) -> list[str]:
    """The text chunks a reply streams before it ends or fails."""
    if isinstance(reply, Text):
        return reply.chunks
    if isinstance(reply, (StreamError, Reset, Truncated, Malformed, Stall)):
        return [FILLER] * reply.after_chunks
    if isinstance(reply, ToolCalls) and reply.text_before:
        return [reply.text_before]
    return []


def usage_of(reply: Reply, body: Any) -> tuple[int, int]:
    if isinstance(reply, Text) and reply.usage is not None:
        return reply.usage
    out = len(text_of(reply))
    if isinstance(reply, ToolCalls):
        out += sum(len(name) + len(str(args)) // 4 for _, name, args in reply.calls)
    return prompt_tokens(body), max(out, 1)


def args_json(args: dict | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def split_in_pieces(text: str, pieces: int = 3) -> list[str]:
    """Split ``text`` into up to ``pieces`` consecutive non-empty parts."""
    if len(text) <= 1:
        return [text]
    size = max(1, -(-len(text) // pieces))
    return [text[i:i + size] for i in range(0, len(text), size)]


IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_MAGIC = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8", "image/webp": b"RIFF"}


def base64_image_problem(mime: Any, data: Any, where: str) -> str | None:
    """Why an image's media type and base64 data would be refused, or None."""
    import base64
    import binascii

    if mime not in IMAGE_MIMES:
        return f"{where}: unsupported image media type {mime!r}"
    try:
        raw = base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        return f"{where}: image data is not valid base64"
    if not raw.startswith(_MAGIC[mime]):
        return f"{where}: image data is not a {mime} image"
    return None
