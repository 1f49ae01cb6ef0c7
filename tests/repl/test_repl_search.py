"""/search in the REPL: hits from every chat of the profile, matches marked, text neutralised."""

from __future__ import annotations

from tests.fakes import Text
from tests.repl.conftest import unique


def test_search_lists_hits_from_other_chats(repl_driver, live_home, fake_clean):
    word = unique("zq").replace("-", "")
    live_home.run("ask", "-c", unique("elsewhere"), f"where is the {word} kept?", check=True)
    fake_clean.script(Text([f"In the shed, with the other {word}.\x1b[2J"]))
    live_home.run("ask", "-c", unique("shed"), f"and the {word}?", check=True)
    r = repl_driver(new=True)
    mark = r.mark()
    r.line(f"/search {word}")
    r.wait_text("found; /chat NAME opens one", after=mark)
    shown = r.text[mark:]
    marked = r.out.text.count(f"\x1b[1m{word}\x1b[22m") if r.repl.modes.color else shown.count(f"»{word}«")
    assert marked >= 4  # both questions and both answers, each match marked
    assert "elsewhere-" in shown and "shed-" in shown and " · user" in shown
    assert "other " in shown and "^[[2J" in shown  # the answer's escape is shown, never obeyed
    assert "\x1b[2J" not in r.out.text


def test_search_without_words_or_hits_says_so(repl_driver, fake_clean):
    r = repl_driver(new=True)
    mark = r.mark()
    r.line("/search")
    r.wait_text("/search WORDS: what to look for", after=mark)
    r.line(f"/search {unique('nothingmatches').replace('-', '')}")
    r.wait_text("no messages match", after=mark)
