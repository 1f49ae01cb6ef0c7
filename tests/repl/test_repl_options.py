"""/option: API parameters for the REPL's questions, checked when set."""

from __future__ import annotations

from chatthy.repl.prompt import toolbar
from tests.repl.conftest import unique


def last_body(fake) -> dict:
    return [r for r in fake.requests if r.method == "POST"][-1].json


def test_options_go_with_every_question_and_retry_until_cleared(repl_driver, fake_clean):
    r = repl_driver(chat=unique("opts"))
    mark = r.mark()
    r.line("/option temperature=0.3 seed=7 stop='[\"END HERE\"]'")
    r.wait_text('options: temperature=0.3 seed=7 stop=["END HERE"]', after=mark)
    assert "-o temperature,seed,stop" in "".join(text for _, text in toolbar(r.repl))
    r.line("first")
    r.wait_text("You said: first", after=mark)
    body = last_body(fake_clean)
    assert (body["temperature"], body["seed"], body["stop"]) == (0.3, 7, ["END HERE"])
    r.line("/retry")
    r.wait_for(lambda t: len([q for q in fake_clean.requests if q.method == "POST"]) == 2, what="the retry")
    assert last_body(fake_clean)["temperature"] == 0.3
    r.line("/option clear seed")
    r.wait_text("cleared seed", after=mark)
    r.line("/option")
    r.wait_text('options: temperature=0.3 stop=["END HERE"]', after=mark)
    r.line("/option clear")
    r.wait_text("cleared temperature, stop", after=mark)
    mark = r.mark()
    r.line("second")
    r.wait_text("You said: second", after=mark)
    assert "temperature" not in last_body(fake_clean)


def test_a_refused_option_is_refused_when_set(repl_driver, fake_clean):
    r = repl_driver(chat=unique("opts-bad"))
    mark = r.mark()
    r.line("/option model=gpt-5")
    r.wait_text("option 'model' cannot be set with -o: use -m/--model", after=mark)
    r.line("/option temperature")
    r.wait_text("expected KEY=VALUE", after=mark)
    r.line("/option")
    r.wait_text("no options: the provider's params apply", after=mark)
    r.line("hello")
    r.wait_text("You said: hello", after=mark)  # nothing was left set to fail the question
