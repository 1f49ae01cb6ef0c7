"""YouTube transcripts with youtube-transcript-api ≥ 1.2 (its instance API).

The library is synchronous (requests) and sets no timeouts of its own, so it
runs in a worker thread with a per-request timeout added to its session and a
deadline around the whole fetch. Its exceptions carry multi-paragraph
messages; each is mapped here to one line that says what to do.
The title comes from YouTube's oEmbed endpoint (the transcript API has none).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio

from chatthy.errors import BadRequest, NotFound, ProviderError
from chatthy.sources import Document
from chatthy.sources.settings import SourceSettings

log = logging.getLogger("chatthy.sources")

_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_HOSTS = {"youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com"}
_PATH_PREFIXES = ("/shorts/", "/embed/", "/live/", "/v/", "/e/")
OEMBED_URL = "https://www.youtube.com/oembed"
PARAGRAPH_SECONDS = 60.0


def video_id(url: str) -> str | None:
    """The 11-character id of a YouTube video URL, or None if it is not one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    candidate = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host in _HOSTS:
        if parts.path in ("/watch", "/watch/"):
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        else:
            for prefix in _PATH_PREFIXES:
                if parts.path.startswith(prefix):
                    candidate = parts.path[len(prefix):].split("/")[0]
                    break
    if candidate and _ID.match(candidate):
        return candidate
    return None


async def fetch_youtube(url: str, video: str, settings: SourceSettings, *, http_client: Any = None) -> Document:
    """The transcript of ``video`` as a Document (kind ``youtube``).

    ``http_client`` is a ``requests.Session`` to use instead of a new one: the
    library's own HTTP boundary, where tests plug in a local stand-in.
    """
    deadline = settings.timeout * 2  # three or four requests, each with its own timeout
    try:
        with anyio.fail_after(deadline):
            return await anyio.to_thread.run_sync(
                lambda: _fetch(url, video, settings, http_client), abandon_on_cancel=True)
    except TimeoutError:
        raise ProviderError(f"YouTube video {video}: no transcript within {deadline:g} s") from None


def _fetch(url: str, video: str, settings: SourceSettings, http_client: Any) -> Document:
    import requests
    from youtube_transcript_api import NoTranscriptFound, YouTubeTranscriptApi

    session = http_client if http_client is not None else requests.Session()
    _add_timeout(session, settings)
    api = YouTubeTranscriptApi(http_client=session)
    try:
        listing = api.list(video)
        try:
            transcript = listing.find_transcript(settings.youtube_languages)
        except NoTranscriptFound:
            # None in the preferred languages: any transcript beats none, and
            # iteration yields the manually made ones before the generated.
            available = list(listing)
            if not available:
                raise
            transcript = available[0]
        fetched = transcript.fetch()
    except requests.RequestException as exc:
        raise ProviderError(f"YouTube video {video}: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        mapped = _map_error(video, exc)
        if mapped is None:
            raise
        raise mapped from None
    snippets = [(s.start, s.text) for s in fetched.snippets]
    text = transcript_text(snippets)
    if not text.strip():
        raise NotFound(f"YouTube video {video}: the transcript is empty")
    title, author = _oembed(session, video)
    meta = {"url": url, "video_id": video, "language": fetched.language_code,
            "generated": fetched.is_generated}
    if author:
        meta["author"] = author
    return Document(text, title, url, "youtube", meta)


def transcript_text(snippets: list[tuple[float, str]]) -> str:
    """Snippets joined into paragraphs of about a minute, each led by its time."""
    paragraphs: list[str] = []
    current: list[str] = []
    start = 0.0
    for at, piece in snippets:
        piece = " ".join(piece.split())
        if not piece:
            continue
        if current and at - start >= PARAGRAPH_SECONDS:
            paragraphs.append(f"[{_clock(start)}] " + " ".join(current))
            current = []
        if not current:
            start = at
        current.append(piece)
    if current:
        paragraphs.append(f"[{_clock(start)}] " + " ".join(current))
    return "\n\n".join(paragraphs)


def _clock(seconds: float) -> str:
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _add_timeout(session: Any, settings: SourceSettings) -> None:
    """requests has no session-wide timeout, and the library passes none."""
    original = session.request
    timeout = (settings.connect_timeout, settings.timeout)

    def request(method, url, **kw):
        if kw.get("timeout") is None:
            kw["timeout"] = timeout
        return original(method, url, **kw)

    session.request = request


def _oembed(session: Any, video: str) -> tuple[str | None, str | None]:
    query = urlencode({"url": f"https://www.youtube.com/watch?v={video}", "format": "json"})
    try:
        resp = session.get(f"{OEMBED_URL}?{query}")
        if resp.status_code != 200:
            return None, None
        data = resp.json()
    except Exception as exc:  # the title is a nicety: the transcript stands without it
        log.info("no oEmbed title for %s: %s", video, exc)
        return None, None
    title = data.get("title") if isinstance(data, dict) else None
    author = data.get("author_name") if isinstance(data, dict) else None
    return (str(title) if title else None), (str(author) if author else None)


def _map_error(video: str, exc: Exception) -> Exception | None:
    from youtube_transcript_api import _errors as yt

    where = f"YouTube video {video}"
    if isinstance(exc, (yt.NoTranscriptFound, yt.TranscriptsDisabled)):
        return NotFound(f"{where} has no transcript (captions are disabled or none exist)")
    if isinstance(exc, yt.InvalidVideoId):
        return BadRequest(f"{video!r} is not a YouTube video id")
    if isinstance(exc, yt.VideoUnavailable):
        return NotFound(f"{where} is unavailable (removed, private, or a wrong id)")
    if isinstance(exc, yt.AgeRestricted):
        return ProviderError(f"{where} is age-restricted: YouTube needs a signed-in account for it")
    if isinstance(exc, yt.RequestBlocked):
        return ProviderError(f"YouTube is blocking transcript requests from this machine's IP address "
                             f"(common for cloud servers) while fetching {video}")
    if isinstance(exc, yt.PoTokenRequired):
        return ProviderError(f"{where}: YouTube requires a proof-of-origin token for this transcript")
    if isinstance(exc, yt.YouTubeRequestFailed):
        return ProviderError(f"{where}: request to YouTube failed: {exc.reason}")
    if isinstance(exc, yt.VideoUnplayable):
        return ProviderError(f"{where} is unplayable: {exc.reason or 'no reason given'}")
    if isinstance(exc, yt.CouldNotRetrieveTranscript):
        cause = " ".join((exc.cause or type(exc).__name__).split())
        return ProviderError(f"{where}: no transcript: {cause}")
    return None
