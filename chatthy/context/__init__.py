"""Tokens and context: counting tokens and fitting a request into the window.

``tokens`` counts with the tiktoken encodings vendored in ``chatthy/data``
(exact for OpenAI models, a calibrated cl100k_base estimate otherwise);
``calibration`` learns the estimate's error from reported usage; ``assemble``
fits system prompt, workspace, retrieved context, history and input into
``context_length - max_tokens``.

Importing this package does not import tiktoken: that happens on the first
count, so code that only assembles (or a client) never pays for it.
"""

from chatthy.context.assemble import Assembled, FixedPart, HistoryMessage, assemble, split_turns
from chatthy.context.calibration import Calibration
from chatthy.context.tokens import TokenCounter, encoding_name_for, load_encoding

__all__ = [
    "Assembled",
    "Calibration",
    "FixedPart",
    "HistoryMessage",
    "TokenCounter",
    "assemble",
    "encoding_name_for",
    "load_encoding",
    "split_turns",
]
