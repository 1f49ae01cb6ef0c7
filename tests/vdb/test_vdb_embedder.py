"""The local embedder: checked before loading, normalised, order-preserving."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from chatthy.errors import ConfigError
from chatthy.vdb.local_embedder import DIMENSION, LocalEmbedder, default_model_path


@pytest.fixture(scope="module")
def embedder():
    e = LocalEmbedder()
    e.load()
    return e


def test_vectors_are_unit_length_and_meaningful(embedder):
    v = embedder.embed_sync([
        "The cat sat on the mat.",
        "A kitten was resting on the rug.",
        "Quarterly revenue grew by five percent.",
    ])
    assert v.shape == (3, DIMENSION) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2


def test_a_batch_gives_the_same_vectors_as_one_by_one(embedder):
    # Mixed lengths: sorting by length and padding must not change any vector.
    texts = ["short", "a somewhat longer sentence about databases and logs", "mid length text here",
             " ".join(["word"] * 300), "x"]
    batch = embedder.embed_sync(texts)
    single = np.vstack([embedder.embed_sync([t]) for t in texts])
    assert np.allclose(batch, single, atol=1e-4)


def test_an_empty_text_still_gets_a_unit_vector(embedder):
    v = embedder.embed_sync([""])  # [CLS] [SEP] only
    assert np.isfinite(v).all() and abs(np.linalg.norm(v) - 1) < 1e-5


def test_counting_excludes_special_tokens(embedder):
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens(" ".join(["word"] * 1000)) == 1000  # no truncation when counting


def test_a_modified_model_file_is_refused_before_loading(tmp_path):
    bad = tmp_path / "model.onnx"
    shutil.copyfile(default_model_path(), bad)
    with open(bad, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    e = LocalEmbedder(model_path=bad)
    with pytest.raises(ConfigError, match="sha256"):
        e.load()
    assert not e.loaded


def test_a_missing_model_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the embedding model"):
        LocalEmbedder(model_path=tmp_path / "nope.onnx").load()
