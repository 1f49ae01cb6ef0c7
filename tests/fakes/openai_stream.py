"""The OpenAI Chat Completions wire format of a fake reply.

Streams are ``data: {chat.completion.chunk}`` lines ending with ``data: [DONE]``;
a usage chunk (empty ``choices``) comes last when the request asked for it with
``stream_options.include_usage``, as the real API does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from .replies import (
    RESET, HttpError, Malformed, Reply, Reset, Sleep, Stall, Step, StreamError, Text,
    Truncated,
    ToolCalls, args_json, split_in_pieces, text_of, usage_of,
)

CREATED = 1_700_000_000

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("insufficient_permissions", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ERROR_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to sample from this model.",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests.",
    500: "The server had an error while processing your request.",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
    529: "The server is overloaded.",
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _event(obj: Any) -> bytes:
    return b"data: " + _dumps(obj) + b"\n\n"


def error_body(status: int, message: str | None = None, error_type: str | None = None) -> dict:
    etype, code = _ERROR_TYPES.get(status, ("server_error", None))
    text = message or _ERROR_MESSAGES.get(status, f"HTTP {status}")
    return {"error": {"message": text, "type": error_type or etype, "param": None, "code": code}}


def http_error(err: HttpError) -> tuple[int, dict[str, str], bytes]:
    body = err.body if err.body is not None else error_body(err.status, err.message)
    return err.status, dict(err.headers), _dumps(body)


def models_body(models: list[str]) -> dict:
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake"} for m in models],
    }


class _Chunks:
    """Builds chunk events of one completion; caches repeated text chunks."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.head = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                     "created": CREATED, "model": model, "system_fingerprint": None}
        self._text_cache: dict[str, bytes] = {}

    def choice(self, delta: dict, finish_reason: str | None = None) -> bytes:
        return _event({**self.head, "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]})

    def text(self, text: str) -> bytes:
        cached = self._text_cache.get(text)
        if cached is None:
            cached = self._text_cache[text] = self.choice({"content": text})
        return cached

    def usage(self, prompt: int, completion: int) -> bytes:
        return _event({**self.head, "choices": [], "usage": {
            "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}})


def stream_steps(reply: Reply, body: dict) -> Iterator[Step]:
    """The steps of a streamed reply (``reply`` is never an ``HttpError`` here)."""
    chunks = _Chunks(str(body.get("model", "")))
    options = body.get("stream_options") or {}
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    yield chunks.choice({"role": "assistant", "content": ""})
    delay = reply.delay if isinstance(reply, Text) else 0.0
    stamp = isinstance(reply, Text) and reply.stamp
    for i, text in enumerate(text_of(reply)):
        if delay and i:
            yield Sleep(delay)
        # Made lazily, right before it is written (the step before was a Sleep).
        yield chunks.text(f"@{time.monotonic_ns()} {text}" if stamp else text)

    if isinstance(reply, StreamError):
        yield _event({"error": {"message": reply.message, "type": reply.error_type,
                                "param": None, "code": None}})
        return
    if isinstance(reply, Reset):
        yield RESET
        return
    if isinstance(reply, Truncated):
        return
    if isinstance(reply, Malformed):
        yield b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"content": "tru\n\n'
        return
    if isinstance(reply, Stall):
        yield Sleep(reply.seconds)

    finish = "stop"
    if isinstance(reply, ToolCalls):
        finish = "tool_calls"
        for index, (call_id, name, args) in enumerate(reply.calls):
            yield chunks.choice({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                                 "function": {"name": name, "arguments": ""}}]})
            for piece in split_in_pieces(args_json(args)):
                yield chunks.choice({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunks.choice({}, finish)
    if include_usage:
        yield chunks.usage(*usage_of(reply, body))
    yield b"data: [DONE]\n\n"


def json_response(reply: Reply, body: dict) -> dict:
    """The non-streamed ``chat.completion`` of a reply that ends normally."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text_of(reply)) or None}
    finish = "stop"
    if isinstance(reply, ToolCalls):
        finish = "tool_calls"
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args_json(args)}}
            for cid, name, args in reply.calls
        ]
    prompt, completion = usage_of(reply, body)
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }


def image_problem(body: dict) -> str | None:
    """An ``image_url`` part must carry an http(s) URL or a base64 data URL of a real image."""
    from .replies import base64_image_problem

    for i, msg in enumerate(body.get("messages") or []):
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            where = f"messages[{i}].content[{j}]"
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith(("http://", "https://")):
                continue
            if not url.startswith("data:") or ";base64," not in url:
                return f"{where}: image_url must be a URL or a base64 data URL"
            mime, _, data = url[len("data:"):].partition(";base64,")
            problem = base64_image_problem(mime, data, where)
            if problem:
                return problem
    return None
