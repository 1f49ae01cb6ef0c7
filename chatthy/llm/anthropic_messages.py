"""Anthropic Messages, streamed as raw events through the official SDK.

The neutral request maps onto Messages like this: the system prompt goes to
``system=``; assistant tool calls become ``tool_use`` blocks; tool results
become ``tool_result`` blocks in a user turn; consecutive turns of one role are
merged, because the API requires user and assistant to alternate (a tool
result followed by the user's next words is one user turn, results first).
Params are sent in the body as given: this SDK's ``messages.create`` no
longer takes ``temperature`` / ``top_p`` / ``top_k``, but the API accepts them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .base import END, SDKProvider, aiohttp_client, neutral_stop_reason
from .events import Done, Event, TextDelta, ToolCall, Usage
from .request import ChatRequest

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


class AnthropicMessagesProvider(SDKProvider):
    kind = "anthropic"
    # Explicit, so that ANTHROPIC_BASE_URL in the environment cannot redirect a
    # provider whose config says nothing.
    default_base_url = ANTHROPIC_BASE_URL

    def _make_client(self, api_key: str) -> Any:
        import anthropic

        s = self.settings
        # An explicit api_key also stops the SDK from looking for profiles,
        # workload identity or ANTHROPIC_AUTH_TOKEN.
        timeout = anthropic.Timeout(s.timeout, connect=s.connect_timeout)
        return anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=s.max_retries,
            http_client=aiohttp_client(anthropic, timeout),  # chatthy/llm/base.py says why
        )

    def build_body(self, req: ChatRequest) -> dict[str, Any]:
        """The JSON body of the streamed ``/v1/messages`` request for ``req``."""
        body = self._params(req)
        body.pop("stream_usage", None)  # an OpenAI-compatible-server switch
        extra_system, messages = to_anthropic_messages(req.messages)
        body.update(model=self._model(req), max_tokens=req.max_tokens, messages=messages, stream=True)
        system = "\n\n".join(s for s in (req.system, *extra_system) if s)
        if system:
            body["system"] = system
        if req.tools:
            body["tools"] = [to_anthropic_tool(t) for t in req.tools]
        return body

    async def stream(self, req: ChatRequest) -> AsyncIterator[Event]:
        import anthropic

        model = self._model(req)
        client = await self._client_once()
        try:
            # The client's generic post() rather than messages.create(): the same
            # retries, auth, timeouts, SSE decoding and error events, with plain
            # dict events (typed event models cost more than the rest together).
            sdk_stream = await client.post(
                "/v1/messages", body=self.build_body(req), cast_to=object,
                stream=True, stream_cls=anthropic.AsyncStream[object],
            )
        except Exception as exc:
            raise self._error(exc, model) from exc

        tool_blocks: dict[int, dict[str, Any]] = {}
        usage: dict[str, Any] = {}
        stop_reason: str | None = None
        stopped = False
        iterator = sdk_stream.__aiter__()
        try:
            while (event := await self._next(iterator, model)) is not END:
                if not isinstance(event, dict):
                    continue
                kind = event.get("type")
                if kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "text_delta":
                        if delta.get("text"):
                            yield TextDelta(delta["text"])
                    elif delta.get("type") == "input_json_delta" and event.get("index") in tool_blocks:
                        tool_blocks[event["index"]]["json"].append(delta.get("partial_json") or "")
                    # thinking, signature and citation deltas are not part of the reply text
                elif kind == "content_block_start":
                    block = event.get("content_block") or {}
                    if block.get("type") == "tool_use":
                        tool_blocks[event.get("index")] = {"id": block.get("id"), "name": block.get("name"),
                                                           "input": block.get("input"), "json": []}
                    elif block.get("type") == "text" and block.get("text"):
                        yield TextDelta(block["text"])
                elif kind == "content_block_stop":
                    block = tool_blocks.pop(event.get("index"), None)
                    if block is not None:
                        yield self._tool_call(block, model)
                elif kind == "message_start":
                    usage.update(_known((event.get("message") or {}).get("usage")))
                elif kind == "message_delta":
                    stop_reason = (event.get("delta") or {}).get("stop_reason") or stop_reason
                    usage.update(_known(event.get("usage")))
                elif kind == "message_stop":
                    stopped = True
        finally:
            await self._close_stream(sdk_stream, iterator)

        if not stopped:
            raise self._incomplete(model, "the stream ended before message_stop")
        if usage:
            yield _usage(usage)
        yield Done(neutral_stop_reason(stop_reason))

    def _tool_call(self, block: dict[str, Any], model: str) -> ToolCall:
        name = block["name"] or ""
        call_id = block["id"] or ""
        if block["json"]:
            arguments = self._tool_call_arguments("".join(block["json"]), name=name, model=model)
        else:
            arguments = block["input"] if isinstance(block["input"], dict) else {}
        return ToolCall(id=call_id, name=name, arguments=arguments)

    async def list_models(self) -> list[str]:
        client = await self._client_once()
        try:
            return [model.id async for model in client.models.list()]
        except Exception as exc:
            raise self._error(exc) from exc


def _known(usage: Any) -> dict[str, Any]:
    """The usage fields that have a value (message_delta repeats some as null)."""
    return {k: v for k, v in usage.items() if v is not None} if isinstance(usage, dict) else {}


def _usage(raw: dict[str, Any]) -> Usage:
    # Anthropic counts cached prompt tokens apart; the prompt's size is their sum.
    parts = [raw.get(k) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    known = [p for p in parts if isinstance(p, int)]
    return Usage(input_tokens=sum(known) if known else None,
                 output_tokens=raw.get("output_tokens"), raw=raw)


def _text_blocks(content: Any) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        # The API rejects empty text blocks.
        return [{"type": "text", "text": content}] if content.strip() else []
    return [b for b in content
            if not (isinstance(b, dict) and b.get("type") == "text" and not str(b.get("text", "")).strip())]


def to_anthropic_messages(messages: list[dict]) -> tuple[list[str], list[dict]]:
    """(system texts found among the messages, alternating Messages turns)."""
    system: list[str] = []
    turns: list[tuple[str, list[dict]]] = []
    for msg in messages:
        role = msg.get("role")
        if role == "system":
            system.append(str(msg.get("content") or ""))
            continue
        if role == "tool":
            role = "user"
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg["tool_call_id"],
                                      "content": msg.get("content", "")}
            if msg.get("is_error"):
                result["is_error"] = True
            blocks = [result]
        else:
            role = "assistant" if role == "assistant" else "user"
            blocks = _text_blocks(msg.get("content"))
            if msg.get("images") and role == "user":
                # Images before the text that asks about them, as Anthropic advises.
                blocks = [{"type": "image", "source": {"type": "base64", "media_type": image["mime"],
                                                       "data": image["data"]}}
                          for image in msg["images"]] + blocks
            calls = msg.get("tool_calls") if role == "assistant" else None
            for call in calls or ():
                blocks.append({"type": "tool_use", "id": call["id"], "name": call["name"],
                               "input": call.get("arguments") or {}})
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    for role, blocks in turns:
        if role == "user":
            # tool_result blocks must open the user turn that answers tool_use.
            blocks.sort(key=lambda b: not (isinstance(b, dict) and b.get("type") == "tool_result"))
    return system, [{"role": role, "content": blocks} for role, blocks in turns]


def to_anthropic_tool(tool: dict) -> dict:
    out: dict[str, Any] = {"name": tool["name"],
                           "input_schema": tool.get("parameters") or {"type": "object", "properties": {}}}
    if tool.get("description"):
        out["description"] = tool["description"]
    return out
