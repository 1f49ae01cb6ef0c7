"""Fitting fixed parts, history and input into the context window."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings, strategies as st

from chatthy.context import Assembled, FixedPart, HistoryMessage, assemble, split_turns
from chatthy.errors import ContextOverflow

ROLES = ("user", "assistant", "tool")


def msgs(*specs: tuple[str, int]) -> list[HistoryMessage]:
    return [HistoryMessage(i, role, f"{role} {i}", tokens) for i, (role, tokens) in enumerate(specs)]


def part(name: str, tokens: int) -> FixedPart:
    return FixedPart(name, name, tokens)


SYSTEM = part("system prompt", 100)
INPUT = part("input", 10)


def run(history, budget, fixed=(SYSTEM,), new_input=INPUT) -> Assembled:
    return assemble(fixed=list(fixed), history=history, new_input=new_input,
                    context_length=budget + 1000, max_tokens=1000)


# --- split_turns ---------------------------------------------------------------

def test_split_turns_starts_each_turn_at_a_user_message():
    history = msgs(("user", 1), ("assistant", 1), ("tool", 1), ("assistant", 1),
                   ("user", 1), ("user", 1), ("assistant", 1))
    assert [[m.id for m in turn] for turn in split_turns(history)] == [[0, 1, 2, 3], [4], [5, 6]]


def test_messages_before_the_first_user_message_form_their_own_turn():
    history = msgs(("assistant", 1), ("tool", 1), ("user", 1), ("assistant", 1))
    assert [[m.id for m in turn] for turn in split_turns(history)] == [[0, 1], [2, 3]]
    assert split_turns([]) == []


# --- examples --------------------------------------------------------------------

def test_everything_fits():
    history = msgs(("user", 5), ("assistant", 7))
    result = run(history, budget=1000)
    assert result.history == history and result.dropped == []
    assert result.used == 100 + 10 + 12 and result.budget == 1000 and result.free == 878


def test_drops_oldest_turns_first():
    history = msgs(("user", 50), ("assistant", 50), ("user", 50), ("assistant", 50),
                   ("user", 50), ("assistant", 50))
    result = run(history, budget=110 + 200)
    assert [m.id for m in result.history] == [2, 3, 4, 5]
    assert [m.id for m in result.dropped] == [0, 1]
    assert result.used == 310


def test_a_tool_call_is_never_separated_from_its_result():
    history = [
        HistoryMessage(0, "user", "weather?", 10),
        HistoryMessage(1, "assistant", "", 20, {"tool_calls": [{"id": "c1", "name": "weather"}]}),
        HistoryMessage(2, "tool", "sunny", 30, {"tool_call_id": "c1"}),
        HistoryMessage(3, "assistant", "It is sunny.", 5),
        HistoryMessage(4, "user", "thanks", 5),
        HistoryMessage(5, "assistant", "welcome", 5),
    ]
    # Room for the last turn plus the tool result and final answer of the first,
    # but not for the whole first turn: the whole first turn goes.
    result = run(history, budget=110 + 10 + 35 + 20)
    assert [m.id for m in result.history] == [4, 5]
    assert [m.id for m in result.dropped] == [0, 1, 2, 3]


def test_history_stays_contiguous_when_a_middle_turn_does_not_fit():
    history = msgs(("user", 1), ("assistant", 1), ("user", 5000), ("assistant", 1),
                   ("user", 3), ("assistant", 3))
    result = run(history, budget=110 + 100)
    # The two-token first turn would fit, but keeping it would leave a gap.
    assert [m.id for m in result.history] == [4, 5]
    assert [m.id for m in result.dropped] == [0, 1, 2, 3]


def test_newest_turn_too_big_drops_all_history_without_error():
    history = msgs(("user", 10), ("assistant", 10), ("user", 10), ("assistant", 10_000))
    result = run(history, budget=500)
    assert result.history == [] and result.dropped == history
    assert result.used == 110


def test_leading_non_user_turn_is_kept_when_everything_fits():
    history = msgs(("assistant", 5), ("user", 5), ("assistant", 5))
    assert run(history, budget=125).history == history
    assert [m.id for m in run(history, budget=124).history] == [1, 2]


def test_zero_token_messages_and_exact_fit():
    history = msgs(("user", 0), ("assistant", 0), ("user", 40), ("tool", 0))
    result = run(history, budget=150)
    assert result.history == history and result.used == 150 == result.budget


def test_empty_history_and_no_input():
    result = assemble(fixed=[SYSTEM], history=[], new_input=None, context_length=200, max_tokens=50)
    assert result.history == [] and result.dropped == [] and result.input is None
    assert result.used == 100 and result.budget == 150


def test_reserve_shrinks_the_budget():
    history = msgs(("user", 30), ("assistant", 30))
    kept = assemble(fixed=[SYSTEM], history=history, new_input=INPUT,
                    context_length=1200, max_tokens=1000, reserve=0)
    cut = assemble(fixed=[SYSTEM], history=history, new_input=INPUT,
                   context_length=1200, max_tokens=1000, reserve=50)
    assert kept.history == history and cut.history == [] and cut.budget == 150


def test_history_can_be_a_tuple():
    history = tuple(msgs(("user", 5), ("assistant", 5)))
    assert run(history, budget=500).history == list(history)


def test_overflow_names_each_part_and_the_budget():
    fixed = [part("system prompt", 1_200), part("workspace: big.txt", 130_000)]
    with pytest.raises(ContextOverflow) as info:
        assemble(fixed=fixed, history=msgs(("user", 1)), new_input=part("input", 50),
                 context_length=128_000, max_tokens=4_096)
    assert str(info.value) == (
        "request does not fit: system prompt 1,200 + workspace: big.txt 130,000 + input 50"
        " = 131,250 tokens > budget 123,904 (context_length 128,000 − max_tokens 4,096);"
        " drop or bench a workspace file, or shorten the input"
    )
    assert info.value.data["parts"] == [
        {"part": "system prompt", "tokens": 1200},
        {"part": "workspace: big.txt", "tokens": 130000},
        {"part": "input", "tokens": 50},
    ]
    assert info.value.code == "context_overflow"


def test_overflow_mentions_reserve_when_used():
    with pytest.raises(ContextOverflow, match="− reserve 500"):
        assemble(fixed=[part("system prompt", 600)], history=[], new_input=None,
                 context_length=2000, max_tokens=1000, reserve=500)


def test_input_alone_too_large_is_never_cut_silently():
    with pytest.raises(ContextOverflow, match=r"input 9,000 = 9,100 tokens > budget 1,000"):
        run([], budget=1000, new_input=part("input", 9_000))


@pytest.mark.parametrize(("context_length", "max_tokens", "reserve"),
                         [(4096, 4096, 0), (1000, 4096, 0), (4096, 4000, 96)])
def test_no_room_at_all_names_context_length_and_max_tokens(context_length, max_tokens, reserve):
    with pytest.raises(ContextOverflow) as info:
        assemble(fixed=[], history=[], new_input=None, context_length=context_length,
                 max_tokens=max_tokens, reserve=reserve)
    assert f"context_length {context_length:,}" in str(info.value)
    assert f"max_tokens {max_tokens:,}" in str(info.value)


def test_report_rows_in_request_order():
    history = msgs(("user", 50), ("assistant", 50), ("user", 20), ("assistant", 20), ("tool", 5))
    result = run(history, budget=110 + 45, fixed=[SYSTEM, part("workspace: notes.md", 0)])
    assert result.report() == [
        {"part": "system prompt", "tokens": 100, "status": "sent"},
        {"part": "workspace: notes.md", "tokens": 0, "status": "sent"},
        {"part": "history: 2 messages in 1 turn", "tokens": 100, "status": "dropped"},
        {"part": "history: 3 messages in 1 turn", "tokens": 45, "status": "sent"},
        {"part": "input", "tokens": 10, "status": "sent"},
    ]
    assert sum(r["tokens"] for r in result.report() if r["status"] == "sent") == result.used


# --- properties --------------------------------------------------------------------

token_counts = st.one_of(
    st.just(0), st.integers(0, 50), st.integers(0, 5_000), st.integers(10**6, 10**9),
)
histories = st.lists(st.tuples(st.sampled_from(ROLES), token_counts), max_size=40).map(
    lambda specs: msgs(*specs)
)
fixed_parts = st.lists(
    st.tuples(st.sampled_from(["system prompt", "workspace: a.md", "workspace: b.txt",
                               "retrieved context"]), token_counts),
    max_size=4,
).map(lambda specs: [part(name, tokens) for name, tokens in specs])
inputs = st.one_of(st.none(), token_counts.map(lambda n: part("input", n)))
max_tokens_st = st.integers(0, 10**6)
# Room left for history (or, negated, how far the fixed parts overshoot): built
# rather than filtered, so every example exercises the interesting branch.
slack = st.one_of(st.integers(0, 100), st.integers(0, 10_000), st.integers(0, 2 * 10**9))


def reference_keep(history, remaining):
    """Independent model: newest whole turns, stop at the first that does not fit."""
    kept: list[HistoryMessage] = []
    for turn in reversed(split_turns(history)):
        if sum(m.tokens for m in kept) + sum(m.tokens for m in turn) > remaining:
            break
        kept[:0] = turn
    return kept


@settings(max_examples=400, deadline=None, database=None)
@given(history=histories, fixed=fixed_parts, new_input=inputs, max_tokens=max_tokens_st,
       room=slack, reserve=st.sampled_from([0, 0, 7, 1000]))
def test_assemble_properties(history, fixed, new_input, max_tokens, room, reserve):
    parts = fixed + ([new_input] if new_input else [])
    fixed_total = sum(p.tokens for p in parts)
    budget = fixed_total + room
    assume(budget > 0)
    context_length = budget + max_tokens + reserve

    result = assemble(fixed=fixed, history=history, new_input=new_input,
                      context_length=context_length, max_tokens=max_tokens, reserve=reserve)

    # fits, and `used` is honest
    assert result.budget == budget
    assert result.used == fixed_total + sum(m.tokens for m in result.history) <= budget
    # fixed parts and input are never touched
    assert result.system_parts == fixed and result.input is new_input
    # dropped + kept is the original, in order
    assert result.dropped + result.history == list(history)
    # the kept part is a suffix of whole turns (starts at a turn boundary)
    cut = len(result.dropped)
    assert cut in (0, len(history)) or history[cut].role == "user"
    all_turns = split_turns(history)
    kept_turns = split_turns(result.history)
    assert kept_turns == all_turns[len(all_turns) - len(kept_turns):]
    # and it is exactly the newest turns that fit: the next older one would not
    assert result.history == reference_keep(history, budget - fixed_total)
    if result.dropped:
        newest_dropped = split_turns(result.dropped)[-1]
        assert result.used + sum(m.tokens for m in newest_dropped) > budget


@settings(max_examples=200, deadline=None, database=None)
@given(history=histories, fixed=fixed_parts, new_input=inputs, max_tokens=max_tokens_st,
       overshoot=slack.map(lambda n: n + 1), reserve=st.sampled_from([0, 0, 7, 1000]))
def test_overflow_properties(history, fixed, new_input, max_tokens, overshoot, reserve):
    parts = fixed + ([new_input] if new_input else [])
    fixed_total = sum(p.tokens for p in parts)
    budget = fixed_total - overshoot  # may be <= 0: the "no room at all" branch
    context_length = budget + max_tokens + reserve

    with pytest.raises(ContextOverflow) as info:
        assemble(fixed=fixed, history=history, new_input=new_input,
                 context_length=context_length, max_tokens=max_tokens, reserve=reserve)
    message = str(info.value)
    assert f"context_length {context_length:,}" in message
    assert f"max_tokens {max_tokens:,}" in message
    if budget > 0:
        for p in parts:
            assert f"{p.name} {p.tokens:,}" in message
        assert f"= {fixed_total:,} tokens > budget {budget:,}" in message
