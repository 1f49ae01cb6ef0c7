"""Token counting from the vendored encodings, checked against tiktoken's own."""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from chatthy.context import TokenCounter, encoding_name_for, load_encoding
from chatthy.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
DATA = files("chatthy") / "data"
URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
SAMPLES = [
    "hello world",
    "",
    " ",
    "The quick brown fox jumps over the lazy dog.",
    "def f(x):\n    return x ** 2\n\n\n",
    "naïve café — 日本語のテキスト, emoji 🙂🚀, Ελληνικά",
    "1234567890 3.14159 -42 1e10",
    "it's they're we've I'm you'll he'd IT'S",
    "\r\n\t  trailing spaces   ",
    "<|endoftext|> and <|fim_prefix|> are plain text here",
]


class _NoNetwork(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network disabled in tests")


def _refuse(*args, **kwargs):
    raise OSError("network disabled in tests")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """tiktoken's own encodings, fed the same vendored files through its cache.

    The sockets are blocked meanwhile so that a wrong cache layout fails fast
    instead of hanging on a download.
    """
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in URLS.items():
        raw = gzip.decompress((DATA / f"{name}.tiktoken.gz").read_bytes())
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(raw)
    import tiktoken

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        mp.setattr(socket, "socket", _NoNetwork)
        mp.setattr(socket, "create_connection", _refuse)
        mp.setattr(socket, "getaddrinfo", _refuse)
        return {name: tiktoken.get_encoding(name) for name in URLS}


@pytest.mark.parametrize("name", sorted(URLS))
def test_counts_match_tiktoken(reference, name):
    ours = load_encoding(name)
    for text in SAMPLES:
        assert ours.encode_ordinary(text) == reference[name].encode_ordinary(text), text
    # Same split pattern and special ids as tiktoken_ext.openai_public (private
    # attributes, but the point is to catch a transcription slip).
    assert ours._pat_str == reference[name]._pat_str
    assert ours._special_tokens == reference[name]._special_tokens
    assert ours.n_vocab == reference[name].n_vocab
    for token in ours.special_tokens_set:
        assert ours.encode_single_token(token) == reference[name].encode_single_token(token)


@settings(max_examples=60, deadline=None, database=None)
@given(text=st.text(max_size=200))
def test_counts_match_tiktoken_on_any_text(reference, text):
    for name in URLS:
        assert len(load_encoding(name).encode_ordinary(text)) == len(
            reference[name].encode_ordinary(text)
        )


@pytest.mark.parametrize(
    ("model", "kind"), [("gpt-4o", "openai"), ("gpt-4", "openai"), ("claude-sonnet-4", "anthropic")]
)
def test_hello_world_is_two_tokens(model, kind):
    assert TokenCounter(model, kind).count("hello world") == 2


@pytest.mark.parametrize(
    ("model", "kind", "expected"),
    [
        ("gpt-4o", "openai", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "openai", "o200k_base"),
        ("chatgpt-4o-latest", "openai", "o200k_base"),
        ("gpt-4.1-nano", "openai", "o200k_base"),
        ("gpt-5", "openai", "o200k_base"),
        ("gpt-5-mini", "openai", "o200k_base"),
        ("o1", "openai", "o200k_base"),
        ("o3-mini", "openai", "o200k_base"),
        ("o4-mini", "openai", "o200k_base"),
        ("openai/gpt-4o", "openai", "o200k_base"),
        ("GPT-4O", "openai", "o200k_base"),
        ("gpt-4", "openai", "cl100k_base"),
        ("gpt-4-turbo", "openai", "cl100k_base"),
        ("gpt-4-0613", "openai", "cl100k_base"),
        ("gpt-3.5-turbo", "openai", "cl100k_base"),
        ("text-embedding-3-small", "openai", "cl100k_base"),
        ("claude-sonnet-4-5", "anthropic", None),
        ("claude-3-5-haiku-latest", "anthropic", None),
        ("gpt-4o", "anthropic", None),  # Anthropic never counts exactly
        ("llama3.1:8b", "openai", None),  # a local model behind an OpenAI-compatible server
        ("qwen2.5-coder", "openai", None),
        ("gpt-4o", "tabby", "o200k_base"),  # any non-Anthropic kind goes by model name
        ("", "openai", None),
    ],
)
def test_encoding_selection(model, kind, expected):
    assert encoding_name_for(model, kind) == expected
    assert TokenCounter(model, kind).exact is (expected is not None)


def test_exact_count_ignores_calibration(reference):
    text = SAMPLES[5]
    counter = TokenCounter("gpt-4o", "openai", calibration=1.7)
    assert counter.exact
    assert counter.count(text) == len(reference["o200k_base"].encode_ordinary(text))


@pytest.mark.parametrize("factor", [0.5, 1.0, 1.1, 1.37, 2.0])
def test_estimate_is_cl100k_times_calibration_rounded_up(reference, factor):
    counter = TokenCounter("claude-opus-4", "anthropic", calibration=factor)
    assert not counter.exact
    for text in SAMPLES:
        base = len(reference["cl100k_base"].encode_ordinary(text))
        assert counter.count(text) == math.ceil(round(base * factor, 6))


def test_estimate_does_not_overcount_from_float_error():
    counter = TokenCounter("claude-opus-4", "anthropic", calibration=1.1)
    text = " ".join(["hello"] * 50)  # 50 cl100k tokens; 50 × 1.1 is 55.00000000000001
    assert TokenCounter("claude-opus-4", "anthropic").count(text) == 50
    assert counter.count(text) == 55


def test_special_token_text_is_counted_as_plain_text(reference):
    text = "before <|endoftext|> after <|endofprompt|>"
    for model, name in [("gpt-4o", "o200k_base"), ("gpt-4", "cl100k_base")]:
        n = TokenCounter(model, "openai").count(text)
        assert n == len(reference[name].encode(text, disallowed_special=()))
        assert n > 2  # not collapsed into single special tokens


def test_count_message_adds_format_overhead():
    content = "hello world"
    assert TokenCounter("gpt-4o", "openai").count_message("user", content) == 2 + 4
    assert TokenCounter("llama3", "openai").count_message("user", content) == 2 + 4
    assert TokenCounter("claude-sonnet-4", "anthropic").count_message("assistant", content) == 2 + 3
    assert TokenCounter("gpt-4o", "openai").count_message("user", "") == 4


def test_empty_text_is_zero_tokens():
    assert TokenCounter("gpt-4o", "openai").count("") == 0
    assert TokenCounter("claude", "anthropic", 2.0).count("") == 0


def test_calibration_must_be_positive():
    with pytest.raises(ValueError):
        TokenCounter("claude", "anthropic", 0)


def test_encoding_is_built_once_per_process():
    assert load_encoding("o200k_base") is load_encoding("o200k_base")


def test_concurrent_first_loads_share_one_encoding(tmp_path):
    shutil.copyfile(DATA / "cl100k_base.tiktoken.gz", tmp_path / "cl100k_base.tiktoken.gz")
    results, barrier = [], threading.Barrier(6)

    def load():
        barrier.wait()
        results.append(load_encoding("cl100k_base", data_dir=tmp_path))

    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(r is results[0] for r in results)


def test_sha256_mismatch_is_a_config_error(tmp_path):
    raw = bytearray(gzip.decompress((DATA / "cl100k_base.tiktoken.gz").read_bytes()))
    raw[100] ^= 0x01
    (tmp_path / "cl100k_base.tiktoken.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(ConfigError, match="sha256"):
        load_encoding("cl100k_base", data_dir=tmp_path)


def test_missing_or_garbled_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_encoding("o200k_base", data_dir=tmp_path)
    (tmp_path / "o200k_base.tiktoken.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ConfigError, match="cannot read"):
        load_encoding("o200k_base", data_dir=tmp_path)


def test_unknown_encoding_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown encoding"):
        load_encoding("p50k_base")


def test_counting_works_offline_without_a_tiktoken_cache(tmp_path):
    """In a fresh process with every socket refused and an empty tiktoken cache,
    importing chatthy.context does not import tiktoken, and counting works."""
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    script = textwrap.dedent(
        """
        import socket, sys

        class NoNetwork(socket.socket):
            def __init__(self, *args, **kwargs):
                raise OSError("network disabled")

        def refuse(*args, **kwargs):
            raise OSError("network disabled")

        socket.socket = NoNetwork
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        import chatthy.context as context
        assert "tiktoken" not in sys.modules, "importing chatthy.context imported tiktoken"
        print(context.TokenCounter("gpt-4o", "openai").count("hello world"))
        print(context.TokenCounter("gpt-3.5-turbo", "openai").count("hello world"))
        print(context.TokenCounter("claude-sonnet-4", "anthropic", 1.5).count("hello world"))
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    env.pop("DATA_GYM_CACHE_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "2", "3"]
    assert list(cache.iterdir()) == []  # nothing written to (or read from) tiktoken's cache
