"""Per-ask API parameters (``chatthy ask -o temperature=0.2``, the REPL's ``/option``).

Shared by both sides: the daemon checks what it is sent, and the REPL checks
an option when it is set rather than at every question after it.

They go into the provider's request body over the provider's configured
``params``, for this one request. The fields chatthy itself builds the body
from are refused, each with the option that sets it: a stray ``-o model=…``
would otherwise be silently overwritten (or, for ``system`` on Anthropic,
replace the personality). Everything else is passed as given, so servers get
the parameters the SDKs have never heard of (``top_k``, ``min_p``, …).
"""

from __future__ import annotations

from typing import Any

from chatthy.errors import BadRequest

MAX_OPTIONS = 32
MAX_BYTES = 16 * 1024
_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_KEY_CHARS = _KEY_FIRST | frozenset("0123456789.-")

# What sets each field chatthy builds the request from.
RESERVED = {
    "model": "-m/--model",
    "messages": "the chat itself",
    "stream": "nothing: replies always stream",
    "system": "-s/--system or a personality",
    "tools": "-T/--tool",
    "max_tokens": "max_tokens under [providers.NAME] (the token budget keeps room for it)",
    "max_completion_tokens": "max_tokens under [providers.NAME] (the token budget keeps room for it)",
}


def check_options(options: dict | None) -> dict[str, Any]:
    """The options, checked; BadRequest (one line, what and why) otherwise."""
    if not options:
        return {}
    if len(options) > MAX_OPTIONS:
        raise BadRequest(f"more than {MAX_OPTIONS} options")
    from chatthy.wire.json_codec import dumps

    for key, value in options.items():
        if not (1 <= len(key) <= 64 and key[0] in _KEY_FIRST and _KEY_CHARS.issuperset(key)):
            raise BadRequest(f"option {key!r} is not a parameter name (letters, digits, _ . -)")
        if key in RESERVED:
            raise BadRequest(f"option {key!r} cannot be set with -o: use {RESERVED[key]}")
        try:
            dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"option {key!r}: {exc}") from None
    if len(dumps(options)) > MAX_BYTES:
        raise BadRequest(f"the options come to more than {MAX_BYTES // 1024} KiB")
    return dict(options)
