"""The ``[vdb]`` section of config.toml (standard library only: config.py imports it)::

    [vdb]
    embedder = "local"       # the bundled all-MiniLM-L6-v2, offline; or a provider NAME
                             # whose /v1/embeddings is used (an OpenAI-compatible server)
    model = ""               # with a provider: the embedding model ("text-embedding-3-small")
    chunk_size = 200         # tokens per chunk, in the embedder's own tokens
    chunk_overlap = 30       # tokens shared by consecutive chunks of one section
    rag_share = 0.25         # at most this share of the prompt budget goes to `ask --rag`
    rag_max_chunks = 8       # and at most this many chunks
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

LOCAL = "local"
# all-MiniLM-L6-v2 reads at most 256 word pieces ([CLS] and [SEP] among them),
# and a heading line is put in front of each chunk when it is embedded.
LOCAL_MAX_CHUNK = 240

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "embedder": str,
    "model": str,
    "chunk_size": int,
    "chunk_overlap": int,
    "rag_share": (int, float),
    "rag_max_chunks": int,
}


@dataclass(frozen=True)
class VdbSettings:
    embedder: str = LOCAL
    model: str = ""
    chunk_size: int = 200
    chunk_overlap: int = 30
    rag_share: float = 0.25
    rag_max_chunks: int = 8

    @property
    def chunking(self) -> str:
        """How documents are cut, as recorded with each: a change re-chunks on the next ingest."""
        return f"md-v1/{self.chunk_size}/{self.chunk_overlap}"


def parse_vdb(raw: Any, fail: Callable[[str | None, str, str], Exception],
              providers: Mapping[str, Any]) -> VdbSettings:
    """Validate ``[vdb]``; ``fail(table, key, reason)`` builds the ConfigError to raise."""
    if raw is None:
        return VdbSettings()
    if not isinstance(raw, dict):
        raise fail(None, "vdb", "must be a table")
    for key, value in raw.items():
        if key not in _FIELDS:
            raise fail("vdb", key, f"unknown setting (known: {', '.join(_FIELDS)})")
        want = _FIELDS[key]
        if isinstance(value, bool) or not isinstance(value, want):
            names = want.__name__ if isinstance(want, type) else "a number"
            raise fail("vdb", key, f"must be {names}")
    settings = VdbSettings(**{k: (float(v) if k == "rag_share" else v) for k, v in raw.items()})
    if settings.embedder != LOCAL:
        provider = providers.get(settings.embedder)
        if provider is None:
            known = ", ".join(sorted(providers))
            raise fail("vdb", "embedder", f"must be \"local\" or a configured provider (configured: {known})")
        if getattr(provider, "kind", "openai") != "openai":
            raise fail("vdb", "embedder", f"provider {settings.embedder!r} is not OpenAI-compatible "
                       "(kind = \"openai\"): it has no /v1/embeddings")
        if not settings.model.strip():
            raise fail("vdb", "model", f"name the embedding model that provider {settings.embedder!r} serves")
    if not 16 <= settings.chunk_size <= 8000:
        raise fail("vdb", "chunk_size", "must be between 16 and 8000 tokens")
    if settings.embedder == LOCAL and settings.chunk_size > LOCAL_MAX_CHUNK:
        raise fail("vdb", "chunk_size", f"must be at most {LOCAL_MAX_CHUNK} with the local embedder "
                   "(all-MiniLM-L6-v2 reads 256 word pieces)")
    if not 0 <= settings.chunk_overlap <= settings.chunk_size // 2:
        raise fail("vdb", "chunk_overlap", "must be between 0 and half the chunk size")
    if not 0 < settings.rag_share <= 0.9:
        raise fail("vdb", "rag_share", "must be more than 0 and at most 0.9")
    if not 1 <= settings.rag_max_chunks <= 100:
        raise fail("vdb", "rag_max_chunks", "must be between 1 and 100")
    return settings
