"""Truncation to the token budget: the exact messages the provider receives, the
budget report, and properties of a request built from any history."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from chatthy.context import FixedPart, HistoryMessage, TokenCounter, assemble, split_turns
from chatthy.errors import ContextOverflow
from chatthy.server.compose import system_text
from chatthy.server.reply import request_messages
from tests.chat.conftest import TINY
from tests.fakes.replies import Text

# budget = 260 − 100 = 160 tokens
EXTRA_CONFIG = TINY.replace("{context_length}", "260")
COUNTER = TokenCounter("gpt-4o-mini", "openai")  # exact: o200k_base


def q(word: str) -> str:
    return f"{word} " * 50


def user_tokens(text: str) -> int:
    return COUNTER.count_message("user", text)


def reply_tokens(text: str) -> int:
    return COUNTER.count_message("assistant", text)


def test_oldest_turns_are_dropped_whole(mhome, fresh):
    fresh.script(Text(["reply one"]), Text(["reply two"]), Text(["reply three"]))
    for word in ("one", "two", "three"):
        mhome.run("ask", "-c", "tr", "-p", "tiny", q(word), check=True)
    second, third = fresh.requests[-2].json["messages"], fresh.requests[-1].json["messages"]
    assert second == [{"role": "user", "content": q("one")}, {"role": "assistant", "content": "reply one"},
                      {"role": "user", "content": q("two")}]
    assert third == [{"role": "user", "content": q("two")}, {"role": "assistant", "content": "reply two"},
                     {"role": "user", "content": q("three")}]
    turn = user_tokens(q("one")) + reply_tokens("reply one")  # 55 + 6
    # why: the input and one turn fit 160; a second turn does not
    assert user_tokens(q("three")) + turn <= 160 < user_tokens(q("three")) + 2 * turn

    stored = json.loads(mhome.run("chat", "show", "tr", "--json", check=True).stdout)["messages"]
    assert [m["tokens"] for m in stored] == [user_tokens(q("one")), reply_tokens("reply one")] * 1 + [
        user_tokens(q("two")), reply_tokens("reply two"), user_tokens(q("three")), reply_tokens("reply three")]

    report = json.loads(mhome.run("chat", "tokens", "tr", "--json", check=True).stdout)
    assert report["budget"] == 160 and report["model"] == "gpt-4o-mini" and report["counting"]["exact"]
    assert report["dropped"] == {"messages": 2, "turns": 1, "tokens": turn}
    assert report["kept"] == {"messages": 4, "turns": 2, "tokens": 2 * turn}
    assert report["used"] == 2 * turn and report["remaining"] == 160 - 2 * turn
    assert [(r["part"], r["tokens"], r["status"]) for r in report["parts"]] == [
        ("history: 2 messages in 1 turn", turn, "dropped"),
        ("history: 4 messages in 2 turns", 2 * turn, "sent"),
    ]
    text = mhome.run("chat", "tokens", "tr", check=True).stdout
    assert "dropped: 2 messages in 1 turns" in text and f"remaining for the question: {160 - 2 * turn}" in text


def test_the_system_prompt_counts_against_the_budget(mhome, fresh):
    mhome.run("persona", "set", "brief", "Be brief.", check=True)
    fresh.script(Text(["reply one"]), Text(["reply two"]))
    mhome.run("ask", "-c", "tp", "-p", "tiny", "-P", "brief", q("one"), check=True)
    mhome.run("ask", "-c", "tp", q("two"), check=True)  # the chat keeps its provider
    assert fresh.requests[-1].json["model"] == "gpt-4o-mini"
    assert fresh.requests[-1].json["messages"][0] == {"role": "system", "content": "Be brief."}
    report = json.loads(mhome.run("chat", "tokens", "tp", "--json", check=True).stdout)
    assert report["parts"][0] == {"part": "system prompt (brief)", "tokens": COUNTER.count_message("system", "Be brief."),
                                  "status": "sent"}
    assert report["used"] == sum(r["tokens"] for r in report["parts"] if r["status"] == "sent")


def test_a_newest_turn_too_big_to_keep_drops_all_history(mhome, fresh):
    fresh.script(Text(["word " * 150]), Text(["ok"]))
    mhome.run("ask", "-c", "big", "-p", "tiny", "first", check=True)
    mhome.run("ask", "-c", "big", q("next"), check=True)
    assert fresh.requests[-1].json["messages"] == [{"role": "user", "content": q("next")}]


def test_input_that_cannot_fit_is_refused_naming_each_part(mhome, fresh):
    mhome.run("persona", "set", "brief2", "Be brief.", check=True)
    fresh.script(Text(["ok"]))
    mhome.run("ask", "-c", "over", "-p", "tiny", "-P", "brief2", "hello", check=True)
    fresh.clear()
    out = mhome.run("ask", "-c", "over", "x " * 200)
    assert out.returncode == 9
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1
    assert f"system prompt (brief2) {COUNTER.count_message('system', 'Be brief.')}" in line
    assert f"input {user_tokens('x ' * 200)}" in line and "budget 160" in line
    assert fresh.requests == []  # never sent, never cut
    assert len(json.loads(mhome.run("chat", "show", "over", "--json").stdout)["messages"]) == 2


# -- properties of a request built from any history ---------------------------

roles = st.sampled_from(["user", "assistant", "tool"])
histories = st.lists(st.tuples(roles, st.integers(0, 300)), max_size=40).map(
    lambda items: [HistoryMessage(i, role, f"m{i}", tokens) for i, (role, tokens) in enumerate(items)])
fixed_st = st.lists(st.integers(0, 200), max_size=3).map(
    lambda sizes: [FixedPart(f"part {i}", f"text {i}", n) for i, n in enumerate(sizes)])


@settings(max_examples=300, deadline=None)
@given(history=histories, fixed=fixed_st, input_tokens=st.integers(1, 300),
       context_length=st.integers(200, 3000), max_tokens=st.integers(1, 199))
def test_request_properties(history, fixed, input_tokens, context_length, max_tokens):
    new_input = FixedPart("input", "the question", input_tokens)
    try:
        assembled = assemble(fixed=fixed, history=history, new_input=new_input,
                             context_length=context_length, max_tokens=max_tokens)
    except ContextOverflow as exc:
        # refused only when the fixed parts and the input alone do not fit
        assert sum(p.tokens for p in fixed) + input_tokens > context_length - max_tokens
        assert all(p["part"] in exc.message for p in exc.data["parts"])
        return
    messages = request_messages(assembled.history, "the question")
    budget = context_length - max_tokens
    kept = assembled.history
    # it fits
    assert sum(p.tokens for p in fixed) + sum(m.tokens for m in kept) + input_tokens <= budget
    # the input is last and whole; the system prompt (all fixed parts) is kept in order
    assert messages[-1] == {"role": "user", "content": "the question"}
    assert system_text(assembled.system_parts) == (system_text(fixed))
    # the newest messages are kept, in order, as a suffix of the history
    assert [m["content"] for m in messages[:-1]] == [m.content for m in history[len(history) - len(kept):]]
    # a turn is never split: the kept part starts at a turn start
    if kept and len(kept) < len(history):
        assert kept[0].role == "user"
    # and nothing that would have fitted was dropped: the next older turn does not fit
    dropped_turns = split_turns(assembled.dropped)
    if dropped_turns and dropped_turns[-1][0].role == "user":
        extra = sum(m.tokens for m in dropped_turns[-1])
        assert assembled.used + extra > budget


def test_history_outline_reads_what_a_request_replays(tmp_path):
    from chatthy.store import Store
    from chatthy.store.chat_history import history_outline, texts

    with Store.open(tmp_path / "c.db") as store:
        chat = store.create_chat(store.profile("default").id, "o")
        keep = [store.add_message(chat.id, "user", "q", tokens=5).id,
                store.add_message(chat.id, "assistant", "cut short", status="cancelled", tokens=7).id]
        store.add_message(chat.id, "system", "not replayed", tokens=3)
        store.add_message(chat.id, "assistant", "", status="error", tokens=None)
        keep.append(store.add_message(chat.id, "user", "", tokens=None).id)  # complete, even if empty
        assert history_outline(store.conn, chat.id) == [(keep[0], "user", 5), (keep[1], "assistant", 7),
                                                        (keep[2], "user", 0)]
        assert texts(store.conn, chat.id, keep[0], keep[1]) == {keep[0]: ("q", None), keep[1]: ("cut short", None)}
