"""/image in the REPL: images checked at once, shown in the toolbar, sent with the next question only.

The real REPL through prompt-toolkit's pipe input, the real daemon (this
module's own, with small image limits and a text-only provider), the fake
provider recording what it receives.
"""

from __future__ import annotations

import base64
import os

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from tests.conftest import daemon_home
from tests.fakes import Text
from tests.repl.conftest import unique
from tests.tools.png_maker import png

EXTRA_CONFIG = """
[images]
max_mb = 0.05
max_per_message = 3

[providers.blind]
kind = "openai"
base_url = "{openai}"
api_key_env = "FAKE_API_KEY"
model = "blind-model"
context_length = 8192
max_tokens = 512
max_retries = 0
vision = false
"""


@pytest.fixture(scope="module")
def live_home(live_fake):
    """This module's daemon: the shared REPL fixtures, with [images] limits and a text-only provider."""
    with daemon_home(live_fake, EXTRA_CONFIG.format(openai=live_fake.openai_base_url)) as home:
        yield home


@pytest.fixture(scope="module")
def pics(tmp_path_factory):
    root = tmp_path_factory.mktemp("pics")
    (root / "red.png").write_bytes(png(6, 4, grey=0x10))
    (root / "blue.png").write_bytes(png(3, 5, grey=0x20))
    (root / "green.png").write_bytes(png(2, 2, grey=0x30))
    (root / "huge.png").write_bytes(png(2, 2, padding=60_000))  # over max_mb = 0.05
    (root / "notes.txt").write_text("not a picture\n")
    (root / "my photo.png").write_bytes(png(4, 4, grey=0x40))
    return root


def last_request(fake) -> dict:
    return [r for r in fake.requests if r.method == "POST"][-1].json


def sent_images(message: dict) -> list[bytes]:
    """The images of one OpenAI message, decoded."""
    if not isinstance(message["content"], list):
        return []
    return [base64.b64decode(part["image_url"]["url"].partition(",")[2])
            for part in message["content"] if part["type"] == "image_url"]


def toolbar_text(r) -> str:
    from chatthy.repl.prompt import toolbar

    return "".join(text for _, text in toolbar(r.repl))


def errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error: ")]


def test_images_go_with_the_next_question_only(repl_driver, fake_clean, pics):
    red, blue = pics / "red.png", pics / "blue.png"
    fake_clean.script(Text(["Hello."]), Text(["A red and a blue one."]), Text(["Nothing new."]))
    r = repl_driver(chat=unique("img"))
    mark = r.mark()
    r.line("hello")
    r.wait_text("Hello.", after=mark)
    assert sent_images(last_request(fake_clean)["messages"][-1]) == []
    assert "📎" not in toolbar_text(r)

    r.line(f"/image {red} {blue}")
    r.wait_text("they go with your next message")
    assert f"{red} (image/png 6×4, " in r.text
    assert "│ 📎 2 " in toolbar_text(r)
    assert len(fake_clean.requests) == 1  # nothing sent yet
    mark = r.mark()
    r.line("/image")
    r.wait_text("2 images go with your next message", after=mark)
    r.wait_text(f"2. {blue} (image/png 3×5, ", after=mark)

    mark = r.mark()
    r.line("what are these?")
    r.wait_text("A red and a blue one.", after=mark)
    body = last_request(fake_clean)
    question = body["messages"][-1]
    assert question["content"][0] == {"type": "text", "text": "what are these?"}
    assert sent_images(question) == [red.read_bytes(), blue.read_bytes()]
    assert "📎" not in toolbar_text(r)
    assert r.repl.modes.images == [] and r.repl.modes.images_sent is None

    mark = r.mark()
    r.line("anything else?")
    r.wait_text("Nothing new.", after=mark)
    body = last_request(fake_clean)
    assert body["messages"][-1] == {"role": "user", "content": "anything else?"}  # not attached again
    # ... while the question they went with keeps them in the history
    assert [sent_images(m) for m in body["messages"] if m["role"] == "user"] == [
        [], [red.read_bytes(), blue.read_bytes()], []]


def test_errors_are_one_line_and_lose_nothing(repl_driver, fake_clean, pics, tmp_path):
    red, green = pics / "red.png", pics / "green.png"
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # reading it would wait forever
    r = repl_driver(chat=unique("img-errors"))
    r.line(f"/image {red}")
    r.wait_text("it goes with your next message")
    assert "│ 📎 1 " in toolbar_text(r)

    attempts = [
        (f"/image {pics / 'missing.png'}", f"error: {pics / 'missing.png'}: no such file"),
        (f"/image {pics / 'notes.txt'}", f"error: {pics / 'notes.txt'}: not a PNG, JPEG, GIF or WebP image"),
        (f"/image {pics / 'huge.png'}", f"error: {pics / 'huge.png'}: image is 59 KiB, larger than the limit"),
        (f"/image {pics}", f"error: {pics}: is a directory, not an image"),
        (f"/image {green} {pics / 'missing.png'}", f"error: {pics / 'missing.png'}: no such file"),  # none added
        (f"/image {green} {green} {green}", "error: 4 images; at most 3 per message ([images] max_per_message): "
                                            "1 already waiting"),
        ('/image "unclosed', "error: /image: No closing quotation"),
        (f"/image {fifo}", f"error: {fifo}: not a regular file"),
    ]
    for line, expected in attempts:
        mark = r.mark()
        r.line(line)
        r.wait_text(expected, after=mark)
        assert len(errors(r.text[mark:])) == 1, r.text[mark:]
        assert [i.path for i in r.repl.modes.images] == [str(red)]  # nothing lost, nothing added
    assert "│ 📎 1 " in toolbar_text(r)

    mark = r.mark()
    r.line(f"/image {pics / 'my photo.png'}")  # a path with a space needs no quotes
    r.wait_text("(2 images in all)", after=mark)
    r.line("/image clear")
    r.wait_text("dropped 2 images")
    assert "📎" not in toolbar_text(r)
    r.line("/image")
    r.wait_text("no images waiting")

    fake_clean.script(Text(["Plain."]))
    mark = r.mark()
    r.line("no pictures now")
    r.wait_text("Plain.", after=mark)
    assert last_request(fake_clean)["messages"][-1] == {"role": "user", "content": "no pictures now"}


def test_a_refused_question_keeps_its_images_for_the_next_one(repl_driver, fake_clean, pics):
    green = pics / "green.png"
    r = repl_driver(chat=unique("img-blind"))
    r.line("/provider blind")
    r.wait_for(lambda t: "blind" in toolbar_text(r), what="the blind provider in the toolbar")
    r.line(f"/image {green}")
    r.wait_text("it goes with your next message")

    mark = r.mark()
    r.line("what colour?")
    r.wait_text("configured as text-only", after=mark)
    assert fake_clean.requests == []  # refused by the daemon, never sent
    r.wait_for(lambda t: r.repl.modes.images_sent is None, what="the ask to settle")
    assert [i.path for i in r.repl.modes.images] == [str(green)]
    assert "📎 1" in toolbar_text(r)

    fake_clean.script(Text(["Green."]))
    r.line("/provider fake")
    r.wait_for(lambda t: "fake/" in toolbar_text(r), what="the fake provider in the toolbar")
    mark = r.mark()
    r.line("what colour?")
    r.wait_text("Green.", after=mark)
    assert sent_images(last_request(fake_clean)["messages"][-1]) == [green.read_bytes()]
    assert "📎" not in toolbar_text(r)


def test_image_is_in_help_and_completes_paths(repl_driver, pics):
    from chatthy.repl.completion import ReplCompleter

    r = repl_driver(new=True)
    r.line("/help")
    r.wait_text("/image [PATH…|clear]")
    completer = ReplCompleter(r.repl)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]

    def shown(text: str) -> list[str]:  # the menu: names as they are (inserted quoted where needed)
        return [c.display_text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]

    assert "image" in complete("/ima")
    assert complete(f"/image {pics}/re") == ["d.png"]
    assert sorted(shown(f"/image {pics}/")) == sorted(p.name for p in pics.iterdir())
