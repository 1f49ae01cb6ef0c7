"""Putting a stream's chunks back in order and proving nothing was lost.

The daemon numbers every chunk of a stream from 0 and ends it with the chunk
count and a sha256 of the full text (``StreamDigest``); the client reorders,
drops duplicates (a resumed stream may resend some) and checks both
(``StreamAssembler``).

A frame may carry several consecutive chunks: ``seq`` is the first and
``data["n"]`` (default 1) how many. The daemon coalesces when a reader lags
behind a fast stream, so signing and sending cost per frame, not per token.
"""

from __future__ import annotations

try:  # the builtin sha256: hashlib's OpenSSL binding costs every client start ~3 ms to import
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:  # a build without them
        from hashlib import sha256

from chatthy.wire.envelope import Envelope
from chatthy.wire.errors import StreamCorrupt, StreamGap


def text_digest(text: str) -> str:
    """sha256 hex of the UTF-8 text."""
    return sha256(text.encode("utf-8")).hexdigest()


def _chunk_text(env: Envelope) -> str:
    data = env.data
    if isinstance(data, dict):
        text = data.get("text")
        if isinstance(text, str):
            return text
    return ""


def _span(env: Envelope) -> int:
    data = env.data
    n = data.get("n", 1) if isinstance(data, dict) else 1
    if type(n) is not int or n < 1:
        raise StreamCorrupt(f"chunk frame {env.seq} of {env.id!r} has an invalid chunk count {n!r}")
    return n


def _missing_runs(start: int, present: list[int], stop: int) -> list[tuple[int, int]]:
    """Inclusive ranges of seqs in ``[start, stop)`` absent from sorted ``present``.

    Works from the runs, never the individual seqs, so an absurd count costs nothing.
    """
    runs: list[tuple[int, int]] = []
    for seq in [*present, stop]:
        if seq > start:
            runs.append((start, seq - 1))
        start = seq + 1
    return runs


def _describe_runs(runs: list[tuple[int, int]], limit: int = 8) -> str:
    shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return shown + (f", … ({len(runs) - limit} more gaps)" if len(runs) > limit else "")


class StreamDigest:
    """The daemon's running count and digest; call ``update`` once per chunk sent."""

    __slots__ = ("_hash", "count")

    def __init__(self) -> None:
        self._hash = sha256()
        self.count = 0

    def update(self, text: str) -> None:
        self._hash.update(text.encode("utf-8"))
        self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class StreamAssembler:
    """Delivers the chunks of one stream in order, exactly once.

    When resuming from ``start_seq`` > 0, pass the text already received as
    ``prefix_text`` so the final digest still covers the whole stream.
    """

    def __init__(
        self,
        stream_id: str,
        *,
        start_seq: int = 0,
        max_buffered: int = 10_000,
        prefix_text: str = "",
    ) -> None:
        self.stream_id = stream_id
        self.max_buffered = max_buffered
        self._next = start_seq
        self._pending: dict[int, Envelope] = {}
        self._hash = sha256(prefix_text.encode("utf-8"))
        self._parts: list[str] = [prefix_text] if prefix_text else []
        self._joined: str | None = prefix_text

    @property
    def next_seq(self) -> int:
        """The first seq not yet delivered: where a resumed stream should start."""
        return self._next

    @property
    def text(self) -> str:
        """All text delivered so far, prefix included."""
        if self._joined is None:
            self._joined = "".join(self._parts)
            self._parts = [self._joined]
        return self._joined

    def _deliver(self, env: Envelope, out: list[Envelope]) -> None:
        text = _chunk_text(env)
        if text:
            self._hash.update(text.encode("utf-8"))
            self._parts.append(text)
            self._joined = None
        out.append(env)
        self._next += _span(env)

    def feed(self, env: Envelope) -> list[Envelope]:
        """Take one chunk; return the chunks that are now deliverable, in order."""
        if env.type != "chunk" or env.id != self.stream_id or env.seq is None:
            raise ValueError(
                f"StreamAssembler for {self.stream_id!r} got a {env.type} frame of {env.id!r}"
            )
        seq = env.seq
        if seq < self._next or seq in self._pending:
            if seq < self._next < seq + _span(env):
                # Overlaps what we have without matching its boundaries: we cannot
                # tell which part of its text is new.
                raise StreamCorrupt(
                    f"stream {self.stream_id!r}: chunk frame {seq}+{_span(env)} straddles seq {self._next}"
                )
            return []
        if seq != self._next:
            if len(self._pending) >= self.max_buffered:
                raise StreamGap(
                    f"stream {self.stream_id!r}: more than {self.max_buffered} chunks "
                    f"arrived ahead of missing chunk {self._next}"
                )
            self._pending[seq] = env
            return []
        out: list[Envelope] = []
        self._deliver(env, out)
        pending = self._pending
        while pending:
            following = pending.pop(self._next, None)
            if following is None:
                break
            self._deliver(following, out)
        return out

    def finish(self, end: Envelope) -> None:
        """Check the end frame's count and digest against what was delivered."""
        data = end.data
        count = data.get("count") if isinstance(data, dict) else None
        digest = data.get("sha256") if isinstance(data, dict) else None
        if type(count) is not int or not isinstance(digest, str):
            raise StreamCorrupt(
                f"stream {self.stream_id!r}: end frame lacks an integer 'count' and a 'sha256'"
            )
        beyond = sorted(seq for seq in self._pending if seq >= count)
        if self._next > count or beyond:
            raise StreamCorrupt(
                f"stream {self.stream_id!r}: end frame announces {count} chunks, "
                f"but chunk {max([self._next - 1, *beyond])} arrived"
            )
        if self._next < count:
            missing = _missing_runs(self._next, sorted(self._pending), count)
            raise StreamGap(
                f"stream {self.stream_id!r}: missing chunk(s) {_describe_runs(missing)} "
                f"of {count}; resume from seq {self._next}"
            )
        if self._hash.hexdigest() != digest:
            raise StreamCorrupt(
                f"stream {self.stream_id!r}: the text received does not match the "
                "sha256 the daemon announced"
            )
