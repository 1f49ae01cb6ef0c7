"""Provider-neutral streaming chat over the official OpenAI and Anthropic SDKs.

Importing this package does not import the SDKs: each provider imports its
SDK when it makes its client, on the first request.
"""

from .anthropic_messages import AnthropicMessagesProvider
from .base import Provider, ProviderSettings
from .credentials import resolve_api_key
from .events import Done, Event, TextDelta, ToolCall, Usage
from .openai_chat import OpenAIChatProvider
from .registry import ProviderRegistry, make_provider
from .request import ChatRequest

__all__ = [
    "AnthropicMessagesProvider",
    "ChatRequest",
    "Done",
    "Event",
    "OpenAIChatProvider",
    "Provider",
    "ProviderRegistry",
    "ProviderSettings",
    "TextDelta",
    "ToolCall",
    "Usage",
    "make_provider",
    "resolve_api_key",
]
