"""The Anthropic Messages wire format of a fake reply.

A stream is the documented event sequence: message_start, then per content
block content_block_start / content_block_delta… / content_block_stop (a ping
after the first block starts), message_delta with stop_reason and usage, and
message_stop. Errors inside a stream are ``event: error``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .replies import (
    RESET, HttpError, Malformed, Reply, Reset, Sleep, Stall, Step, StreamError, Text,
    Truncated,
    ToolCalls, args_json, split_in_pieces, text_of, usage_of,
)

_ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "An unexpected error has occurred internal to Anthropic's systems."),
    529: ("overloaded_error", "Overloaded"),
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _event(name: str, obj: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _dumps(obj) + b"\n\n"


def error_body(status: int, message: str | None = None, error_type: str | None = None) -> dict:
    etype, default = _ERROR_TYPES.get(status, ("api_error", f"HTTP {status}"))
    return {"type": "error", "error": {"type": error_type or etype, "message": message or default},
            "request_id": "req_fake"}


def http_error(err: HttpError) -> tuple[int, dict[str, str], bytes]:
    body = err.body if err.body is not None else error_body(err.status, err.message)
    return err.status, dict(err.headers), _dumps(body)


def models_body(models: list[str]) -> dict:
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in models]
    return {"data": data, "has_more": False,
            "first_id": models[0] if models else None, "last_id": models[-1] if models else None}


def _message(body: dict, content: list, stop_reason: str | None, usage: dict) -> dict:
    return {"id": "msg_fake", "type": "message", "role": "assistant",
            "model": body.get("model", ""), "content": content, "stop_reason": stop_reason,
            "stop_sequence": None, "usage": usage}


def stream_steps(reply: Reply, body: dict) -> Iterator[Step]:
    """The steps of a streamed reply (``reply`` is never an ``HttpError`` here)."""
    prompt, completion = usage_of(reply, body)
    yield _event("message_start", {"type": "message_start", "message": _message(
        body, [], None, {"input_tokens": prompt, "output_tokens": 1})})
    texts = text_of(reply)
    index = 0
    if texts or not isinstance(reply, ToolCalls):
        yield _event("content_block_start", {"type": "content_block_start", "index": 0,
                                             "content_block": {"type": "text", "text": ""}})
        yield _event("ping", {"type": "ping"})
        delay = reply.delay if isinstance(reply, Text) else 0.0
        cache: dict[str, bytes] = {}
        for i, text in enumerate(texts):
            if delay and i:
                yield Sleep(delay)
            event = cache.get(text)
            if event is None:
                event = cache[text] = _event("content_block_delta", {
                    "type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text}})
            yield event

        if isinstance(reply, StreamError):
            yield _event("error", {"type": "error", "error": {
                "type": reply.error_type, "message": reply.message}})
            return
        if isinstance(reply, Reset):
            yield RESET
            return
        if isinstance(reply, Truncated):
            return
        if isinstance(reply, Malformed):
            yield b"event: content_block_delta\ndata: {not json at all\n\n"
            return
        if isinstance(reply, Stall):
            yield Sleep(reply.seconds)
        yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
        index = 1

    stop_reason = "end_turn"
    if isinstance(reply, ToolCalls):
        stop_reason = "tool_use"
        for call_id, name, args in reply.calls:
            yield _event("content_block_start", {"type": "content_block_start", "index": index,
                                                 "content_block": {"type": "tool_use", "id": call_id,
                                                                   "name": name, "input": {}}})
            for piece in split_in_pieces(args_json(args)):
                yield _event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                     "delta": {"type": "input_json_delta",
                                                               "partial_json": piece}})
            yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
    yield _event("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": {"output_tokens": completion}})
    yield _event("message_stop", {"type": "message_stop"})


def json_response(reply: Reply, body: dict) -> dict:
    """The non-streamed message of a reply that ends normally."""
    content: list[dict] = []
    text = "".join(text_of(reply))
    if text:
        content.append({"type": "text", "text": text})
    stop_reason = "end_turn"
    if isinstance(reply, ToolCalls):
        stop_reason = "tool_use"
        content += [{"type": "tool_use", "id": cid, "name": name,
                     "input": args if isinstance(args, dict) else {}}
                    for cid, name, args in reply.calls]
    prompt, completion = usage_of(reply, body)
    return _message(body, content, stop_reason, {"input_tokens": prompt, "output_tokens": completion})


def image_problem(body: dict) -> str | None:
    """An ``image`` block must have a base64 source whose media type matches its data; only users send them."""
    from .replies import base64_image_problem

    for i, msg in enumerate(body.get("messages") or []):
        content = msg.get("content") if isinstance(msg, dict) else None
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            where = f"messages.{i}.content.{j}"
            if msg.get("role") != "user":
                return f"{where}: images are only allowed in user messages"
            source = block.get("source") or {}
            if source.get("type") != "base64":
                return f"{where}: image source type must be base64"
            problem = base64_image_problem(source.get("media_type"), source.get("data"), where)
            if problem:
                return problem
    return None
