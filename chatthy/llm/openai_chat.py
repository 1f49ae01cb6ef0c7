"""OpenAI Chat Completions, streamed; also every OpenAI-compatible server.

tabbyAPI, Ollama, llama.cpp, vLLM and LM Studio are reached through
``base_url``. Two differences between them and api.openai.com matter here:
the token limit is ``max_completion_tokens`` on OpenAI but ``max_tokens``
elsewhere, and some servers reject ``stream_options`` (turn it off with the
param ``stream_usage = false``). The SDK is imported when a client is made,
so importing this module stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from .base import END, SDKProvider, aiohttp_client, neutral_stop_reason
from .events import Done, Event, TextDelta, ToolCall, Usage
from .request import ChatRequest

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIChatProvider(SDKProvider):
    kind = "openai"
    # Explicit, so that OPENAI_BASE_URL in the environment cannot redirect a
    # provider whose config says nothing.
    default_base_url = OPENAI_BASE_URL

    def _make_client(self, api_key: str) -> Any:
        import openai

        s = self.settings
        timeout = openai.Timeout(s.timeout, connect=s.connect_timeout)
        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=s.max_retries,
            http_client=aiohttp_client(openai, timeout),  # chatthy/llm/base.py says why
        )

    @property
    def is_official(self) -> bool:
        return urlsplit(self.base_url).hostname == "api.openai.com"

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        """The JSON body of the streamed ``/chat/completions`` request for ``req``."""
        # Params are sent as given, so servers get the ones the SDK has never
        # heard of (top_k, min_p, repetition_penalty, …); the request's own fields win.
        body = self._params(req)
        stream_usage = body.pop("stream_usage", True)
        body.update(
            model=self._model(req),
            messages=to_openai_messages(req.messages, req.system),
            stream=True,
        )
        body["max_completion_tokens" if self.is_official else "max_tokens"] = req.max_tokens
        if stream_usage:
            body.setdefault("stream_options", {"include_usage": True})
        if req.tools:
            body["tools"] = [to_openai_tool(t) for t in req.tools]
        return body

    async def stream(self, req: ChatRequest) -> AsyncIterator[Event]:
        import openai

        model = self._model(req)
        client = await self._client_once()
        try:
            # The client's generic post() rather than chat.completions.create():
            # the same retries, auth, timeouts, SSE decoding and error mapping, but
            # chunks stay dicts; building typed chunk models costs ~120 µs each.
            sdk_stream = await client.post(
                "/chat/completions", body=self.build_body(req), cast_to=object,
                stream=True, stream_cls=openai.AsyncStream[object],
            )
        except Exception as exc:
            raise self._error(exc, model) from exc

        calls: dict[int, dict[str, Any]] = {}
        usage: Usage | None = None
        finish: str | None = None
        iterator = sdk_stream.__aiter__()
        try:
            while (chunk := await self._next(iterator, model)) is not END:
                if not isinstance(chunk, dict):
                    continue
                if isinstance(chunk.get("usage"), dict):
                    usage = _usage(chunk["usage"])
                for choice in chunk.get("choices") or ():
                    if not isinstance(choice, dict) or choice.get("index") not in (0, None):
                        continue  # n > 1 is never asked for
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        yield TextDelta(delta["content"])
                    for piece in delta.get("tool_calls") or ():
                        if isinstance(piece, dict):
                            _add_tool_piece(calls, piece)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        finally:
            await self._close_stream(sdk_stream, iterator)

        if finish is None:
            # Every compatible server sends a finish_reason; a body that ends
            # without one was cut short (a proxy, a crashed server).
            raise self._incomplete(model, "the stream ended without a finish_reason")
        for index in sorted(calls):
            call = calls[index]
            name = call["name"] or ""
            yield ToolCall(
                id=call["id"] or f"call_{index}",
                name=name,
                arguments=self._tool_call_arguments("".join(call["arguments"]), name=name, model=model),
            )
        if usage is not None:
            yield usage
        yield Done(neutral_stop_reason(finish))

    async def list_models(self) -> list[str]:
        client = await self._client_once()
        try:
            return [model.id async for model in client.models.list()]
        except Exception as exc:
            raise self._error(exc) from exc


def _add_tool_piece(calls: dict[int, dict[str, Any]], piece: dict[str, Any]) -> None:
    """Fold one streamed tool-call delta into the call it belongs to (by index)."""
    index = piece.get("index")
    if not isinstance(index, int):
        # Some servers omit the index and send each call whole, with its id.
        if piece.get("id"):
            index = next((i for i, c in calls.items() if c["id"] == piece["id"]), len(calls))
        else:
            index = max(calls, default=0)
    call = calls.setdefault(index, {"id": None, "name": None, "arguments": []})
    if piece.get("id"):
        call["id"] = piece["id"]
    function = piece.get("function") or {}
    if function.get("name"):
        # Names arrive whole, but a few servers repeat them on every delta.
        call["name"] = function["name"]
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        # Ollama has sent arguments as an object rather than a JSON string.
        call["arguments"] = [json.dumps(arguments)]
    elif arguments:
        call["arguments"].append(arguments)


def _usage(raw: dict[str, Any]) -> Usage:
    return Usage(input_tokens=raw.get("prompt_tokens"), output_tokens=raw.get("completion_tokens"),
                 raw=raw)


def to_openai_messages(messages: list[dict], system: str | None) -> list[dict]:
    out: list[dict] = []
    if system:
        out.append({"role": "system", "content": system})
    for msg in messages:
        role = msg.get("role")
        if role == "tool":
            out.append({"role": "tool", "tool_call_id": msg["tool_call_id"],
                        "content": msg.get("content", "")})
        elif role == "assistant" and msg.get("tool_calls"):
            out.append({
                "role": "assistant",
                "content": msg.get("content") or None,
                "tool_calls": [
                    {"id": call["id"], "type": "function",
                     "function": {"name": call["name"],
                                  "arguments": json.dumps(call.get("arguments") or {})}}
                    for call in msg["tool_calls"]
                ],
            })
        elif msg.get("images"):
            out.append({"role": role, "content": openai_image_content(msg)})
        else:
            out.append({"role": role, "content": msg.get("content", "")})
    return out


def openai_image_content(msg: dict) -> list[dict]:
    """A message with images: its text part, then one ``image_url`` data URL per image."""
    parts: list[dict] = []
    if msg.get("content"):
        parts.append({"type": "text", "text": msg["content"]})
    for image in msg["images"]:
        parts.append({"type": "image_url",
                      "image_url": {"url": f"data:{image['mime']};base64,{image['data']}"}})
    return parts


def to_openai_tool(tool: dict) -> dict:
    function: dict[str, Any] = {"name": tool["name"],
                                "parameters": tool.get("parameters") or {"type": "object", "properties": {}}}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}
