"""YouTube transcripts through youtube-transcript-api ≥ 1.2, against a local
stand-in of the endpoints it calls (plugged in at its ``http_client``)."""

from __future__ import annotations

import anyio
import pytest

from chatthy.errors import NotFound
from chatthy.sources import SourceSettings
from chatthy.sources.youtube import fetch_youtube, transcript_text, video_id
from tests.sources.site import Site, Video, youtube_session

TALK = "dQw4w9WgXcQ"
SILENT = "aaaaaaaaaaa"
GERMAN = "bbbbbbbbbbb"
GONE = "ccccccccccc"


@pytest.fixture(scope="module")
def site():
    with Site() as s:
        s.videos[TALK] = Video(title="SQLite internals", author="DB Talks", tracks=[
            ("en", "English", False, [(0.0, 2.5, "Welcome to the talk."), (2.5, 3.0, "Today: WAL &amp; checkpoints"),
                                      (61.0, 2.0, "After a minute,"), (63.0, 2.0, "a new paragraph.")]),
            ("de", "Deutsch (automatisch)", True, [(0.0, 2.0, "Willkommen.")]),
        ])
        s.videos[SILENT] = Video(title="No captions here")
        s.videos[GERMAN] = Video(title="Nur Deutsch", tracks=[
            ("de", "Deutsch", False, [(0.0, 2.0, "Hallo zusammen."), (2.0, 2.0, "Heute geht es um Datenbanken.")]),
        ])
        s.videos[GONE] = Video(playable=False)
        yield s


def fetch(site, video: str, languages=("en",)):
    settings = SourceSettings(timeout=5.0, youtube_languages=tuple(languages))
    url = f"https://www.youtube.com/watch?v={video}"
    return anyio.run(lambda: fetch_youtube(url, video, settings, http_client=youtube_session(site)))


def test_transcript_title_and_paragraphs(site):
    doc = fetch(site, TALK)
    assert doc.kind == "youtube"
    assert doc.title == "SQLite internals"
    assert doc.meta["video_id"] == TALK and doc.meta["language"] == "en" and doc.meta["generated"] is False
    assert doc.meta["author"] == "DB Talks"
    assert doc.text == ("[0:00] Welcome to the talk. Today: WAL & checkpoints\n\n"
                        "[1:01] After a minute, a new paragraph.")
    # the library really talked to the stand-in: page, player API, transcript, oEmbed
    paths = [p.split("?")[0] for _, p, _ in site.requests[-4:]]
    assert paths == ["/watch", "/youtubei/v1/player", "/api/timedtext", "/oembed"]


def test_preferred_language_comes_first(site):
    doc = fetch(site, TALK, languages=("de", "en"))
    assert doc.text == "[0:00] Willkommen." and doc.meta["language"] == "de" and doc.meta["generated"] is True


def test_falls_back_to_any_transcript(site):
    doc = fetch(site, GERMAN, languages=("en", "fr"))
    assert doc.meta["language"] == "de"
    assert "Heute geht es um Datenbanken." in doc.text


def test_no_transcript_is_a_clear_error(site):
    with pytest.raises(NotFound) as err:
        fetch(site, SILENT)
    assert str(err.value) == f"YouTube video {SILENT} has no transcript (captions are disabled or none exist)"


def test_unavailable_video(site):
    with pytest.raises(NotFound, match="is unavailable"):
        fetch(site, GONE)


@pytest.mark.parametrize("url, expected", [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", TALK),
    ("https://youtube.com/watch?feature=share&v=dQw4w9WgXcQ&t=42", TALK),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ", TALK),
    ("https://youtu.be/dQw4w9WgXcQ?t=10", TALK),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", TALK),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", TALK),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?si=x", TALK),
    ("https://www.youtube.com/watch?v=short", None),
    ("https://www.youtube.com/channel/UC1234567890", None),
    ("https://example.org/watch?v=dQw4w9WgXcQ", None),
    ("https://notyoutube.com/watch?v=dQw4w9WgXcQ", None),
])
def test_video_ids(url, expected):
    assert video_id(url) == expected


def test_transcript_text_skips_blank_snippets_and_joins_lines():
    text = transcript_text([(0, "a\nb"), (1, "   "), (3700, "late")])
    assert text == "[0:00] a b\n\n[1:01:40] late"
