"""Export and import, usage, models, and token calibration from reported usage."""

from __future__ import annotations

import json
import math

from chatthy.context import TokenCounter
from tests.fakes.replies import Text

EXTRA_CONFIG = """
[providers.dead]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "FAKE_API_KEY"
model = "nobody-home"
context_length = 8192
max_tokens = 512
max_retries = 0
timeout = 5
connect_timeout = 2
"""


def show(home, chat, *profile):
    return json.loads(home.run(*profile, "chat", "show", chat, "--json", check=True).stdout)


def export(home, chat, *profile) -> str:
    return home.run(*profile, "chat", "export", chat, check=True).stdout


def test_json_export_round_trips_exactly(mhome, fresh):
    mhome.run("persona", "set", "lawyer", "Answer like a careful lawyer.", check=True)
    fresh.script(Text(["a1"]), Text(["a2"]))
    mhome.run("ask", "-c", "ex", "-P", "lawyer", "q1", check=True)
    mhome.run("ask", "-c", "ex", "-s", "One-off.", "q2 with ünïcode and\nnewlines", check=True)
    original = export(mhome, "ex")
    data = json.loads(original)
    assert data["personality"] == {"name": "lawyer", "prompt": "Answer like a careful lawyer."}
    assert [m["content"] for m in data["messages"]] == ["q1", "a1", "q2 with ünïcode and\nnewlines", "a2"]
    assert data["messages"][2]["meta"] == {"system": "One-off."}
    assert data["messages"][1]["usage"]["output_tokens"] >= 1 and data["messages"][1]["duration_ms"] is not None

    # into another profile under the same name: byte for byte the same export
    mhome.run("profile", "create", "elsewhere", check=True)
    path = mhome.root / "ex.json"
    path.write_text(original)
    out = mhome.run("--profile", "elsewhere", "chat", "import", str(path))
    assert out.returncode == 0, out.stderr
    assert export(mhome, "ex", "--profile", "elsewhere") == original
    # the personality came along, and the imported chat goes on with the same history
    assert mhome.run("--profile", "elsewhere", "persona", "show", "lawyer", check=True).stdout == \
        "Answer like a careful lawyer.\n"
    mhome.run("--profile", "elsewhere", "ask", "-c", "ex", "q3", check=True)
    assert fresh.requests[-1].json["messages"] == [
        {"role": "system", "content": "Answer like a careful lawyer."},
        {"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2 with ünïcode and\nnewlines"}, {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]

    # from stdin, under a new name
    out = mhome.run("chat", "import", "-", "--name", "ex-copy", input=original)
    assert out.returncode == 0, out.stderr
    copy = json.loads(export(mhome, "ex-copy"))
    assert copy["chat"]["name"] == "ex-copy"
    copy["chat"]["name"] = "ex"
    assert copy == data
    out = mhome.run("chat", "import", str(path))
    assert out.returncode == 8 and "--name" in out.stderr


def test_import_refuses_what_is_not_an_export(mhome, fresh):
    out = mhome.run("chat", "import", "-", input="{not json")
    assert out.returncode == 2 and "invalid JSON" in out.stderr
    out = mhome.run("chat", "import", "-", input='{"messages": []}')
    assert out.returncode == 2 and "not a chatthy export" in out.stderr
    bad = {"chatthy_export": 1, "chat": {"name": "b", "created": "x", "updated": "x"},
           "messages": [{"role": "wizard", "content": "hi", "created": "x"}]}
    out = mhome.run("chat", "import", "-", input=json.dumps(bad))
    assert out.returncode == 2 and "messages[0].role" in out.stderr
    assert "b" not in {c["name"] for c in json.loads(mhome.run("chat", "list", "--json").stdout)}


def test_import_counts_missing_tokens(mhome, fresh):
    minimal = {"chatthy_export": 1, "chat": {"name": "minimal", "created": "2026-01-01T00:00:00.000Z",
                                             "updated": "2026-01-01T00:00:00.000Z"},
               "messages": [{"role": "user", "content": "hello there", "created": "2026-01-01T00:00:00.000Z"}]}
    mhome.run("chat", "import", "-", input=json.dumps(minimal), check=True)
    message = show(mhome, "minimal")["messages"][0]
    assert message["tokens"] > 0 and message["status"] == "complete"


def test_markdown_export(mhome, fresh):
    fresh.script(Text(["the answer"]))
    mhome.run("ask", "-c", "md", "the question", check=True)
    text = mhome.run("chat", "export", "md", "--format", "md", check=True).stdout
    assert text.startswith("# md\n")
    assert "## User · " in text and "\nthe question\n" in text
    assert "## Assistant · fake-model · " in text and "\nthe answer\n" in text


def test_usage_sums_tokens_and_survives_deletion(mhome, fresh):
    fresh.script(Text(["x"], usage=(100, 7)), Text(["y"], usage=(150, 9)))
    mhome.run("ask", "-c", "us", "one", check=True)
    mhome.run("ask", "-c", "us", "two", check=True)
    data = json.loads(mhome.run("usage", "--chat", "us", "--json", check=True).stdout)
    assert data["models"] == [{**data["models"][0], "provider": "fake", "model": "fake-model", "calls": 2,
                               "input_tokens": 250, "output_tokens": 16, "unreported": 0, "summaries": 0}]
    assert data["total"]["calls"] == 2 and data["total"]["cost"] is None
    plain = mhome.run("usage", "--chat", "us", check=True).stdout
    assert plain.split("\t")[:4] == ["fake/fake-model", "2", "250", "16"]
    # a retried answer was paid for too, and so was a deleted chat's
    fresh.script(Text(["z"], usage=(150, 5)))
    mhome.run("chat", "retry", "us", check=True)
    mhome.run("chat", "delete", "us", check=True)
    data = json.loads(mhome.run("usage", "--chat", "us", "--json", check=True).stdout)
    assert data["total"]["calls"] == 3 and data["total"]["output_tokens"] == 21
    future = json.loads(mhome.run("usage", "--since", "2999-01-01", "--json", check=True).stdout)
    assert future["models"] == [] and future["total"]["calls"] == 0
    recent = json.loads(mhome.run("usage", "--since", "1h", "--json", check=True).stdout)
    assert recent["total"]["calls"] >= 3
    assert mhome.run("usage", "--since", "last tuesday").returncode == 2
    assert mhome.run("usage", "--chat", "never-was").returncode == 4


def test_models_from_the_api_else_config(mhome, fresh):
    rows = json.loads(mhome.run("models", "--provider", "fake", "--json", check=True).stdout)
    assert rows == [
        {"provider": "fake", "model": "fake-model", "source": "config", "default": True},
        {"provider": "fake", "model": "fake-model-large", "source": "api", "default": False},
        {"provider": "fake", "model": "fake-model-small", "source": "api", "default": False},
    ]
    assert fresh.requests[-1].path == "/v1/models"
    dead = json.loads(mhome.run("models", "--provider", "dead", "--json", check=True).stdout)
    assert len(dead) == 1 and dead[0]["model"] == "nobody-home" and dead[0]["source"] == "config"
    assert dead[0]["error"]
    everything = json.loads(mhome.run("models", "--json", check=True).stdout)
    assert {"fake", "fakeant", "dead", "openai"} <= {r["provider"] for r in everything}
    out = mhome.run("models", "--provider", "nope")
    assert out.returncode == 4


def test_estimated_counts_are_calibrated_from_reported_usage(mhome, fresh):
    prompt = "supercalifragilistic " * 40
    raw = TokenCounter("claude-fake", "anthropic").count(prompt)  # cl100k estimate, uncalibrated
    mhome.run("ask", "-c", "cal", "-p", "fakeant", prompt, check=True)
    first = show(mhome, "cal")["messages"][0]["tokens"]
    assert first == raw + 3
    # the fake reports its word count (40) as the input tokens: far fewer than estimated
    report = json.loads(mhome.run("chat", "tokens", "cal", "--json", check=True).stdout)
    assert report["counting"]["exact"] is False
    assert report["counting"]["calibration"] == 0.5  # 40/245, clamped to the floor
    mhome.run("ask", "-c", "cal", prompt, check=True)
    second = show(mhome, "cal")["messages"][2]["tokens"]
    assert second == math.ceil(raw * 0.5) + 3
    # exact counters are never calibrated
    report = json.loads(mhome.run("chat", "tokens", "cal", "-p", "fake", "-m", "gpt-4o", "--json").stdout)
    assert report["counting"] == {"encoding": "o200k_base", "exact": True, "calibration": 1.0}


def test_prices_per_model_when_the_configuration_has_them():
    from types import SimpleNamespace

    from chatthy.server.handlers.usage import normalise_since, price_of

    daemon = SimpleNamespace(config=SimpleNamespace(providers={
        "p": SimpleNamespace(prices={"m": [2.5, 10], "*": {"input": 1, "output": 2}}),
        "q": SimpleNamespace(),  # no prices configured: no cost shown
    }))
    assert price_of(daemon, "p", "m") == (2.5, 10.0)
    assert price_of(daemon, "p", "other") == (1.0, 2.0)
    assert price_of(daemon, "q", "m") is None and price_of(daemon, "gone", "m") is None
    assert normalise_since("2026-11-01") == "2026-11-01T00:00:00.000Z"
    assert normalise_since("2026-11-01T10:00:00+02:00") == "2026-11-01T08:00:00.000Z"


def test_since_accepts_dates_times_and_spans():
    from datetime import datetime, timezone

    from chatthy.cli.usage import parse_since

    now = datetime(2026, 11, 25, 12, 30, tzinfo=timezone.utc)
    assert parse_since("7d", now) == "2026-11-18T12:30:00Z"
    assert parse_since("24h", now) == "2026-11-24T12:30:00Z"
    assert parse_since("2w", now) == "2026-11-11T12:30:00Z"
    assert parse_since("today", now) == "2026-11-25T00:00:00Z"
    assert parse_since("2026-11-01T09:30Z", now) == "2026-11-01T09:30:00Z"
