"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint.

The endpoint is a provider from config.toml (``[vdb] embedder = "NAME"``):
its ``base_url``, key and timeouts are used, with ``[vdb] model`` as the
embedding model. The model id stored with the vectors is ``NAME:MODEL``, so
two servers' vectors are never compared even when their models share a name.
The dimension is learnt from the first answer. Vectors are L2-normalised here
whatever the server does, so a dot product is the cosine everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatthy.errors import ProviderError

if TYPE_CHECKING:
    import numpy as np

    from chatthy.config import ProviderConfig

OPENAI_BASE_URL = "https://api.openai.com/v1"


class RemoteEmbedder:
    max_input_tokens = 8191  # OpenAI's limit per input; chunks are far smaller
    batch_size = 64
    tokenizer_name = "cl100k"

    def __init__(self, provider: ProviderConfig, model: str) -> None:
        self.provider = provider
        self.embedding_model = model
        self.model = f"{provider.name}:{model}"
        self.dimension: int | None = None
        self._client: Any = None
        self._counter = None

    def count_tokens(self, text: str) -> int:
        if self._counter is None:
            from chatthy.context import TokenCounter

            # Exact for OpenAI's models, a cl100k estimate for the others: chunk
            # sizes only need to be about right, and well under the input limit.
            self._counter = TokenCounter(self.embedding_model, "openai")
        return self._counter.count(text)

    async def _client_once(self) -> Any:
        if self._client is None:
            import openai

            from chatthy.llm import resolve_api_key

            p = self.provider
            if p.api_key_cmd:
                import anyio.to_thread

                key = await anyio.to_thread.run_sync(resolve_api_key, p)
            else:
                key = resolve_api_key(p)
            self._client = openai.AsyncOpenAI(
                base_url=p.base_url or OPENAI_BASE_URL, api_key=key,
                timeout=openai.Timeout(p.timeout, connect=p.connect_timeout), max_retries=p.max_retries)
        return self._client

    async def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension or 0), dtype=np.float32)
        client = await self._client_once()
        try:
            # The generic post(): the same retries, auth and errors as the SDK's
            # embeddings.create(), without its base64 default that some servers lack.
            answer = await client.post("/embeddings", cast_to=object, body={
                "model": self.embedding_model, "input": texts, "encoding_format": "float"})
        except Exception as exc:
            from chatthy.llm.sdk_errors import to_provider_error

            p = self.provider
            raise to_provider_error(exc, provider=p.name, model=self.embedding_model,
                                    base_url=p.base_url or OPENAI_BASE_URL, timeout=p.timeout,
                                    connect_timeout=p.connect_timeout) from exc
        vectors = _vectors(answer, len(texts), self.model)
        if self.dimension is None:
            self.dimension = vectors.shape[1]
        elif vectors.shape[1] != self.dimension:
            raise ProviderError(f"{self.model}: the server changed dimension from {self.dimension} "
                                f"to {vectors.shape[1]} between two requests")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    async def prepare(self) -> None:
        """Learn the dimension (one tiny request) before anything is stored."""
        if self.dimension is None:
            await self.embed(["dimension probe"])

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def describe(self) -> dict:
        return {"embedder": self.provider.name, "model": self.model, "dimension": self.dimension,
                "max_input_tokens": self.max_input_tokens}


def _vectors(answer: Any, expected: int, model: str) -> np.ndarray:
    import numpy as np

    def bad(why: str) -> ProviderError:
        return ProviderError(f"{model}: unexpected /embeddings answer: {why}")

    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        raise bad(f"expected {expected} embeddings, got {len(data) if isinstance(data, list) else 'none'}")
    ordered: list = [None] * expected
    for position, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("embedding"), list):
            raise bad("an item has no embedding list")
        index = item.get("index", position)
        if not isinstance(index, int) or not 0 <= index < expected or ordered[index] is not None:
            raise bad(f"bad or repeated index {index!r}")
        ordered[index] = item["embedding"]
    try:
        vectors = np.asarray(ordered, dtype=np.float32)
    except (TypeError, ValueError):
        raise bad("embeddings of different lengths or with non-numbers") from None
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise bad("empty embeddings")
    if not np.isfinite(vectors).all():
        raise bad("embeddings contain NaN or infinity")
    return vectors
