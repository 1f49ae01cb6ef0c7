"""`[chat] truncation = "summarise"`: dropped history is replaced by a summary the
model writes, cached, extended as more is dropped, and shown as such."""

from __future__ import annotations

import json

from chatthy.context.summarise import SUMMARY_SYSTEM
from tests.chat.conftest import TINY
from tests.fakes.replies import HttpError, Text

# budget = 400 − 100 = 300; a quarter of it (75) is set aside for the summary
EXTRA_CONFIG = TINY.replace("{context_length}", "400") + '\n[chat]\ntruncation = "summarise"\n'
WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight"]
LEAD = "Summary of the earlier part of this conversation, which is no longer shown in full:\n"


def q(i: int) -> str:
    return f"{WORDS[i]} " * 50


def r(i: int) -> str:
    return f"reply {WORDS[i]}"


def transcript(turns, replies=None) -> str:
    replies = replies or {}
    lines = []
    for i in turns:
        lines += ["", f"User: {q(i)}", "", f"Assistant: {replies.get(i, r(i))}"]
    return "\n".join(lines)


def turn_messages(turns) -> list[dict]:
    out = []
    for i in turns:
        out += [{"role": "user", "content": q(i)}, {"role": "assistant", "content": r(i)}]
    return out


def summariser_body(fake_request) -> tuple[str, str]:
    body = fake_request.json
    assert body["messages"][0]["role"] == "system"
    assert len(body["messages"]) == 2
    return body["messages"][0]["content"], body["messages"][1]["content"]


def test_dropped_turns_are_summarised_cached_and_extended(mhome, fresh):
    for i in range(5):  # five turns still fit whole: no summary yet
        fresh.script(Text([r(i)]))
        mhome.run("ask", "-c", "sm", "-p", "tiny", q(i), check=True)
    assert len(fresh.requests) == 5
    assert fresh.requests[-1].json["messages"] == turn_messages(range(4)) + [{"role": "user", "content": q(4)}]

    # the sixth does not: turns 1-3 are summarised (room is kept for the summary)
    fresh.clear()
    fresh.script(Text(["S1"]), Text([r(5)]))
    mhome.run("ask", "-c", "sm", q(5), check=True)
    assert len(fresh.requests) == 2
    system, prompt = summariser_body(fresh.requests[0])
    assert system == SUMMARY_SYSTEM
    assert prompt == "Summarise this conversation:\n" + transcript(range(3)) + "\n\nWrite the updated summary."
    assert fresh.requests[0].json["max_tokens"] == 75
    assert fresh.requests[1].json["messages"] == (
        [{"role": "system", "content": LEAD + "S1"}] + turn_messages([3, 4]) + [{"role": "user", "content": q(5)}])

    # the seventh drops one more turn: the cached summary is extended, not redone
    fresh.clear()
    fresh.script(Text(["S2"]), Text([r(6)]))
    mhome.run("ask", "-c", "sm", q(6), check=True)
    system, prompt = summariser_body(fresh.requests[0])
    assert prompt == ("Summary so far:\nS1\n\nContinue it with this part of the conversation:\n"
                      + transcript([3]) + "\n\nWrite the updated summary.")
    assert fresh.requests[1].json["messages"] == (
        [{"role": "system", "content": LEAD + "S2"}] + turn_messages([4, 5]) + [{"role": "user", "content": q(6)}])

    # the budget report shows the summary in place of the dropped turns
    report = json.loads(mhome.run("chat", "tokens", "sm", "--json", check=True).stdout)
    assert report["truncation"] == "summarise" and report["summary"] == "summary of 8 earlier messages"
    assert [(p["part"], p["status"]) for p in report["parts"]] == [
        ("summary of 8 earlier messages", "summary"),
        ("history: 8 messages in 4 turns", "summarised"),
        ("history: 6 messages in 3 turns", "sent"),
    ]

    # a retry drops the same messages: the cached summary serves, no new call
    fresh.clear()
    fresh.script(Text(["again"]))
    assert mhome.run("chat", "retry", "sm", check=True).stdout == "again\n"
    assert len(fresh.requests) == 1
    assert fresh.requests[0].json["messages"][0] == {"role": "system", "content": LEAD + "S2"}

    # editing a summarised message invalidates every summary that covered it
    shown = json.loads(mhome.run("chat", "show", "sm", "--json", check=True).stdout)["messages"]
    first_reply = shown[1]
    assert first_reply["content"] == r(0)
    mhome.run("chat", "edit", "sm", "--message", str(first_reply["id"]), "--text", "reply one, edited", check=True)
    fresh.clear()
    fresh.script(Text(["S3"]), Text(["fine"]))
    mhome.run("chat", "retry", "sm", check=True)
    system, prompt = summariser_body(fresh.requests[0])
    assert prompt == ("Summarise this conversation:\n" + transcript(range(4), {0: "reply one, edited"})
                      + "\n\nWrite the updated summary.")
    assert fresh.requests[1].json["messages"][0] == {"role": "system", "content": LEAD + "S3"}

    usage = json.loads(mhome.run("usage", "--chat", "sm", "--json", check=True).stdout)
    assert usage["total"]["summaries"] == 3 and usage["total"]["calls"] == 3 + 7 + 2

    # a summary that cannot be made refuses the ask before anything is written
    before = len(shown)
    fresh.clear()
    fresh.script(HttpError(500, message="summariser down"))
    out = mhome.run("ask", "-c", "sm", q(7))
    assert out.returncode == 5 and "summariser down" in out.stderr
    assert len(json.loads(mhome.run("chat", "show", "sm", "--json").stdout)["messages"]) == before


# -- the pure parts ----------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from chatthy.context import HistoryMessage  # noqa: E402
from chatthy.context.summarise import batches, summary_cap, summary_key  # noqa: E402


@given(sizes=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60)), max_size=40), room=st.integers(1, 400))
def test_batches_keep_order_and_size(sizes, room):
    messages = [HistoryMessage(i, "user" if i % 2 == 0 else "assistant", "x" * chars, tokens)
                for i, (tokens, chars) in enumerate(sizes)]
    out = batches(messages, room)
    assert [m.id for b in out for m in b.messages] == [m.id for m in messages]  # all, in order, once
    for b in out:
        if b.cut:  # a message too large for one call goes alone, shortened in proportion
            (m,) = b.messages
            assert m.tokens > room and 1 <= b.cut[m.id] <= max(1, len(m.content))
        else:
            assert sum(m.tokens for m in b.messages) <= room


@given(budget=st.integers(0, 1_000_000))
def test_summary_cap_is_a_bounded_share(budget):
    cap = summary_cap(budget)
    assert cap == 0 or 64 <= cap <= min(1024, budget // 4)


def test_summary_key_names_ids_and_versions():
    assert summary_key([(1, "a|"), (2, "b|")]) != summary_key([(1, "a|"), (2, "b|2026")])
    assert summary_key([(1, "a|"), (2, "b|")]) != summary_key([(1, "a|")])
    assert summary_key([(1, "a|"), (2, "b|")]) == summary_key([(1, "a|"), (2, "b|")])
