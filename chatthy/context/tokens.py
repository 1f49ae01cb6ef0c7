"""Token counting with the tiktoken encodings vendored in ``chatthy/data``.

tiktoken's own ``get_encoding`` downloads its rank files on first use, with no
timeout: offline it hangs. So the encodings are built here from the gzipped
copies shipped in the package, checked against the sha256 values recorded in
``chatthy/data/PROVENANCE.md``, and tiktoken's registry is never consulted.

tiktoken itself is imported only when an encoding is first needed, so that
importing ``chatthy.context`` stays cheap for code that never counts.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import math
import threading
from importlib.resources import files
from importlib.resources.abc import Traversable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from chatthy.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["TokenCounter", "encoding_name_for", "load_encoding"]

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# Copied verbatim from tiktoken_ext.openai_public (tiktoken 0.14): an encoding
# only reproduces OpenAI's counts with exactly this split pattern and these ids.
_SPECS: dict[str, dict] = {
    "cl100k_base": {
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "pat_str": (
            r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
            r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
        ),
        "special_tokens": {
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    },
    "o200k_base": {
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "pat_str": "|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        "special_tokens": {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    },
}

# Models whose tokenizer is not public (Anthropic, local models) are estimated
# with cl100k_base: it is the closest cheap proxy available offline, and the
# calibration factor corrects it from the provider's reported usage.
ESTIMATE_ENCODING = "cl100k_base"

# Order matters: the o200k prefixes must win over the bare "gpt-4" family.
_O200K_PREFIXES = (
    "gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4", "ft:gpt-4o",
)
_CL100K_PREFIXES = (
    "gpt-4-", "gpt-3.5", "gpt-35-turbo", "text-embedding-", "ft:gpt-4", "ft:gpt-3.5",
)
_CL100K_EXACT = ("gpt-4",)

# Per-message framing the provider adds around each message's content. OpenAI's
# chat format frames every message as <|start|>{role}\n{content}<|end|>\n: 4
# tokens in its first chat models, 3 in later ones (OpenAI's cookbook); 4 errs on
# the side of never overflowing the window. Anthropic and local chat templates do
# not publish theirs; 3 (role marker, separator, end marker) is the usual size,
# and calibration against reported usage absorbs the difference.
OPENAI_MESSAGE_OVERHEAD = 4
OTHER_MESSAGE_OVERHEAD = 3

_cache: dict[tuple[str, str | None], tiktoken.Encoding] = {}
_cache_lock = threading.Lock()


def encoding_name_for(model: str, kind: str) -> str | None:
    """The tiktoken encoding that counts ``model`` exactly, or None to estimate.

    ``kind`` is the provider kind from config (``openai``, ``anthropic``). An
    OpenAI-compatible server (Ollama, tabbyAPI, …) is kind ``openai`` too, so
    the model name decides; a routing prefix such as ``openai/gpt-4o`` is
    ignored. Anthropic's tokenizer is not public: always None.
    """
    if kind == "anthropic":
        return None
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return None


def _default_data_dir() -> Traversable:
    return files("chatthy") / "data"


def load_encoding(
    name: str, *, data_dir: Traversable | str | PathLike[str] | None = None
) -> tiktoken.Encoding:
    """Build (once per process and data dir) the named encoding from vendored ranks.

    ``data_dir`` exists so tests can point at a copy holding a corrupted file;
    production code leaves it None (the package's own ``data`` directory).
    Raises ConfigError if the file is missing, unreadable or fails its sha256.
    """
    if name not in _SPECS:
        raise ConfigError(f"unknown encoding {name!r}; known: {', '.join(sorted(_SPECS))}")
    key = (name, None if data_dir is None else str(data_dir))
    enc = _cache.get(key)
    if enc is not None:
        return enc
    # One lock for all: a load takes a fraction of a second and happens at most
    # twice per process, so finer locking would buy nothing.
    with _cache_lock:
        enc = _cache.get(key)
        if enc is None:
            enc = _build(name, _resolve(data_dir))
            _cache[key] = enc
    return enc


def _resolve(data_dir: Traversable | str | PathLike[str] | None) -> Traversable:
    if data_dir is None:
        return _default_data_dir()
    if isinstance(data_dir, (str, PathLike)):
        return Path(data_dir)
    return data_dir


def _build(name: str, data_dir: Traversable) -> tiktoken.Encoding:
    import tiktoken

    spec = _SPECS[name]
    source = data_dir / f"{name}.tiktoken.gz"
    try:
        raw = gzip.decompress(source.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ConfigError(
            f"cannot read the vendored tokenizer {source}: {exc}; reinstall chatthy"
        ) from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec["sha256"]:
        raise ConfigError(
            f"vendored tokenizer {source} is corrupt: sha256 {digest}, expected "
            f"{spec['sha256']}; reinstall chatthy"
        )
    # The file is "base64token rank" per line; splitting the whole buffer once is
    # several times faster than tiktoken's line-by-line loader and needs no temp
    # file (its loader copies local files into TIKTOKEN_CACHE_DIR).
    fields = raw.split()
    b64decode = base64.b64decode
    ranks = {b64decode(tok): int(rank) for tok, rank in zip(fields[0::2], fields[1::2])}
    encoding = tiktoken.Encoding(
        name,
        pat_str=spec["pat_str"],
        mergeable_ranks=ranks,
        special_tokens=dict(spec["special_tokens"]),
    )
    # The Rust core has its own copy of the ranks; tiktoken keeps the Python
    # dict only to pickle an Encoding, which chatthy never does. For o200k
    # that dict is ~27 MB of Python objects for the daemon's whole life.
    if hasattr(encoding, "_mergeable_ranks"):
        encoding._mergeable_ranks = None
    return encoding


class TokenCounter:
    """Counts tokens for one (model, provider kind): exactly where the
    tokenizer is public, otherwise a calibrated cl100k_base estimate."""

    __slots__ = ("model", "kind", "calibration", "encoding_name", "exact", "_overhead", "_encode")

    def __init__(self, model: str, kind: str, calibration: float = 1.0) -> None:
        self.model = model
        self.kind = kind
        if not calibration > 0:
            raise ValueError(f"calibration must be positive, got {calibration!r}")
        self.calibration = float(calibration)
        name = encoding_name_for(model, kind)
        self.exact: bool = name is not None
        self.encoding_name: str = name or ESTIMATE_ENCODING
        self._overhead = OPENAI_MESSAGE_OVERHEAD if kind == "openai" else OTHER_MESSAGE_OVERHEAD
        # Loaded on first count so that building a counter (e.g. to read
        # `exact`) never pays for parsing 200k ranks.
        self._encode = None

    def _encoder(self):
        # encode_ordinary: no scan for special tokens, so user text containing
        # "<|endoftext|>" is counted as plain text instead of raising.
        self._encode = load_encoding(self.encoding_name).encode_ordinary
        return self._encode

    def count(self, text: str) -> int:
        """Tokens in ``text`` (estimates are rounded up: over-counting is safer)."""
        if not text:
            return 0
        n = len((self._encode or self._encoder())(text))
        if self.exact:
            return n
        # round() first: 50 × 1.1 is 55.00000000000001 in floats, not 56 tokens.
        return math.ceil(round(n * self.calibration, 6))

    def count_message(self, role: str, content: str) -> int:
        """Tokens one chat message costs: its content plus the format's framing."""
        return self.count(content) + self._overhead

    def __repr__(self) -> str:
        how = self.encoding_name if self.exact else f"estimate×{self.calibration:.3f}"
        return f"TokenCounter({self.model!r}, {self.kind!r}, {how})"
