"""The provider-neutral request a ``Provider`` turns into its own API call.

Messages::

    {"role": "user" | "assistant", "content": str}
    {"role": "user", "content": str, "images": [{"mime": "image/png", "data": <base64 str>}]}
    {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}
    {"role": "tool", "tool_call_id": str, "content": str, "is_error": bool (optional)}

Tools: ``{"name", "description", "parameters": <JSON schema>}``.

``params`` (temperature, top_p, …) are sent to the API as given, over the
provider's configured params. ``stream_usage: False`` is chatthy's own switch
for OpenAI-compatible servers that reject ``stream_options``; it is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChatRequest:
    model: str
    messages: list[dict]
    system: str | None = None
    max_tokens: int = 4096
    params: dict = field(default_factory=dict)
    tools: list[dict] = field(default_factory=list)
