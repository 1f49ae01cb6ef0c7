"""Images: attached with -a, checked by content and size, stored once, sent as each API's image block."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import db_rows
from tests.fakes.replies import Text
from tests.tools.conftest import client_for, completions
from tests.tools.png_maker import png


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(png(1000, 1000))
    return path


@pytest.mark.parametrize("provider_name,api", [("fake", "openai"), ("fakeant", "anthropic")])
def test_image_round_trip(thome, provider, photo, provider_name, api):
    chat = f"img-{api}"
    provider.script(Text(["A grey square."]), Text(["Still grey."]))
    out = thome.run("ask", "-p", provider_name, "-c", chat, "-a", str(photo), "what is this?")
    assert out.returncode == 0, out.stderr  # the fake refuses malformed image blocks with a 400
    assert out.stdout == "A grey square.\n"
    sent = completions(provider)[-1].json["messages"][-1]
    expected = photo.read_bytes()
    if api == "openai":
        text, image = sent["content"]
        assert text == {"type": "text", "text": "what is this?"}
        assert image["type"] == "image_url"
        prefix = "data:image/png;base64,"
        assert image["image_url"]["url"].startswith(prefix)
        assert base64.b64decode(image["image_url"]["url"][len(prefix):]) == expected
    else:
        image, text = sent["content"]  # the image first, then the question
        assert image["type"] == "image" and image["source"]["type"] == "base64"
        assert image["source"]["media_type"] == "image/png"
        assert base64.b64decode(image["source"]["data"]) == expected
        assert text == {"type": "text", "text": "what is this?"}
    messages = json.loads(thome.run("chat", "show", chat, "--json", check=True).stdout)["messages"]
    # 1000×1000: OpenAI bills 85 + 170 × 4 tiles = 765; Anthropic 1000 · 1000 / 750 ≈ 1334
    assert messages[0]["tokens"] >= (765 if api == "openai" else 1334)

    # the next question replays the image with the history
    out = thome.run("ask", "-p", provider_name, "-c", chat, "and now?")
    assert out.returncode == 0, out.stderr
    first = completions(provider)[-1].json["messages"][0]
    assert isinstance(first["content"], list)
    assert any(b.get("type") in ("image", "image_url") for b in first["content"])


def test_an_image_is_stored_once(thome, provider, photo):
    provider.script(Text(["one"]), Text(["two"]))
    thome.run("ask", "-c", "img-once-1", "-a", str(photo), "first", check=True)
    thome.run("ask", "-c", "img-once-2", "-a", str(photo), "second", check=True)
    digest = __import__("hashlib").sha256(photo.read_bytes()).hexdigest()
    assert db_rows(thome, f"select count(*) from attachments where sha256 = '{digest}'") == [(1,)]
    links = db_rows(thome, "select count(*) from message_attachments ma join attachments a on a.id = ma.attachment_id"
                           f" where a.sha256 = '{digest}'")
    assert links[0][0] >= 2
    # deleting the chats that use it deletes the image too
    for name in ("img-once-1", "img-once-2", "img-openai", "img-anthropic"):
        thome.run("chat", "delete", name)
    assert db_rows(thome, f"select count(*) from attachments where sha256 = '{digest}'") == [(0,)]


def test_not_an_image_is_refused(thome, provider, tmp_path):
    fake = tmp_path / "photo.png"
    fake.write_text("I am text pretending to be a PNG")
    out = thome.run("ask", "-c", "img-bad", "-a", str(fake), "what is this?")
    assert out.returncode == 2
    assert "not a PNG, JPEG, GIF or WebP image (checked by content, not by name)" in out.stderr
    missing = thome.run("ask", "-c", "img-bad", "-a", str(tmp_path / "nope.png"), "x")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert completions(provider) == []


def test_too_big_is_refused(thome, provider, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(10, 10, padding=80_000))  # [images] max_mb = 0.05
    out = thome.run("ask", "-c", "img-big", "-a", str(big), "what is this?")
    assert out.returncode == 7
    assert "larger than the limit of 51 KiB" in out.stderr and "[images] max_mb" in out.stderr
    assert completions(provider) == []


def test_the_daemon_checks_images_itself(thome, provider):
    """A client that skips the checks gets the same answers from the daemon."""
    from chatthy.errors import BadRequest, TooLarge

    client = client_for(thome)
    try:
        with pytest.raises(BadRequest, match="not a PNG, JPEG, GIF or WebP"):
            list(client.stream("ask", chat="img-raw", prompt="x",
                               attachments=[base64.b64encode(b"GIF? no.").decode()]))
        with pytest.raises(BadRequest, match="not valid base64"):
            list(client.stream("ask", chat="img-raw", prompt="x", attachments=["%%%"]))
        with pytest.raises(TooLarge):
            list(client.stream("ask", chat="img-raw", prompt="x",
                               attachments=[base64.b64encode(png(4, 4, padding=60_000)).decode()]))
    finally:
        client.close()
    assert completions(provider) == []


def test_text_only_model_refuses_images(thome, provider, photo):
    out = thome.run("ask", "-p", "blind", "-c", "img-blind", "-a", str(photo), "what is this?")
    assert out.returncode == 2
    assert "provider 'blind' is configured as text-only (vision = false)" in out.stderr
    # a chat with an image, continued with a text-only model: the image becomes a note
    provider.script(Text(["seen"]), Text(["told"]))
    thome.run("ask", "-c", "img-then-blind", "-a", str(photo), "look", check=True)
    out = thome.run("ask", "-p", "blind", "-c", "img-then-blind", "and?")
    assert out.returncode == 0, out.stderr
    first = completions(provider)[-1].json["messages"][0]
    assert isinstance(first["content"], str) and "not sent: this model takes no images" in first["content"]
