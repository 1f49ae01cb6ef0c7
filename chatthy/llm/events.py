"""Provider-neutral events that ``Provider.stream`` yields.

A stream is ``TextDelta*``, then ``ToolCall*`` (each complete, its arguments
assembled from the streamed pieces), then at most one ``Usage``, then exactly
one ``Done``. Failures are raised as ``chatthy.errors.ProviderError``, never
yielded, so a consumer cannot mistake a broken reply for a finished one.

``Done.stop_reason`` uses one vocabulary for every provider: ``"stop"`` (a
natural end or a stop sequence), ``"length"`` (hit max_tokens),
``"tool_calls"``, ``"content_filter"``; anything else is passed through as the
provider sent it, and ``None`` when the provider sent none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass(slots=True)
class Usage:
    """Token counts the provider reported; ``raw`` keeps every detail it sent.

    ``input_tokens`` is the whole prompt: Anthropic reports cached parts of it
    apart (cache_creation / cache_read), and they are added in.
    """

    input_tokens: int | None
    output_tokens: int | None
    raw: dict = field(default_factory=dict)


@dataclass(slots=True)
class Done:
    stop_reason: str | None


Event = Union[TextDelta, ToolCall, Usage, Done]
