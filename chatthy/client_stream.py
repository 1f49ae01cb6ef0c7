"""A streaming request of the client: its verified frames, in order, as an iterator.

    stream = client.stream("ask", prompt="hi")
    for kind, data in stream: ...      # ("event", {...}) / ("chunk", {"text": ...})
    stream.result                      # data of the closing frame

A stream that loses its connection reconnects and resumes from the last
``seq`` it has (``gen.attach``), so the user sees no gap and no duplicate.

Ctrl-C during a stream never loses a frame: it waits while a frame is read,
checked and reordered, and acts at once while the client waits for the
daemon (``chatthy.deferred_sigint``); cancel, then read on to the end frame.
"""

from __future__ import annotations

import os
import time
from _collections import deque  # collections.deque itself; the package costs starts ~1.5 ms

from chatthy import errors
from chatthy.errors import DaemonUnavailable

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from chatthy.client import Client

RESUME_DELAYS = (0.0, 0.2, 0.5, 1.0)  # between reconnect attempts of a resumed stream


class Stream:
    """Iterate ``(kind, data)`` pairs of a streaming request, in order, verified."""

    def __init__(self, client: Client, method: str, params: dict) -> None:
        self.client = client
        self.method = method
        self.params = params
        self.request_id = os.urandom(8).hex()
        self.result: dict | None = None
        self.start: dict | None = None
        self._assembler = None
        self._resumed = 0
        self._ready: deque = deque()
        self._done = False
        self._abandoned = False  # cancelled before its request went out
        self._interrupts = None  # a DeferredSigint, made on the first frame

    @property
    def text(self) -> str:
        return self._assembler.text if self._assembler else ""

    def cancel(self) -> None:
        """Ask the daemon to stop this stream's work (Ctrl-C on an ask).

        Read on to the closing frame afterwards: it says how the reply ended.
        """
        if self._done:
            return
        if self._assembler is None:
            self._abandoned = True  # the request never goes out; iterating ends at once
            return
        generation = (self.start or {}).get("generation") if self._resumed else None
        try:
            if generation:
                # After a resume this stream is a gen.attach, and a cancel frame would
                # only stop following the reply: stop the reply itself (its end frame
                # then closes the attach). The answer to this request is never read.
                self.client.send_frame("request", os.urandom(8).hex(), method="gen.cancel",
                                  params={"generation": generation})
            else:
                self.client.send_frame("cancel", self.request_id)
        except errors.ChatthyError:
            pass

    def __iter__(self) -> Stream:
        # One request per Stream: iterating again (e.g. draining after Ctrl-C)
        # continues the same stream instead of sending the request twice.
        return self

    def __next__(self) -> tuple[str, Any]:
        # Not a generator on purpose: a KeyboardInterrupt raised while waiting
        # for a frame would close a generator for good, and the caller must be
        # able to send a cancel and then keep reading to the closing frame.
        if self._ready:
            return self._ready.popleft()
        if self._done:
            raise StopIteration
        if self._interrupts is None:
            from chatthy.deferred_sigint import DeferredSigint

            self._interrupts = DeferredSigint()
            self.client.connect()  # may start the daemon: Ctrl-C stays immediate, nothing is sent yet
        # From the request to the hand-over of a frame, Ctrl-C waits until the
        # state is whole (a frame half read, verified or reordered would be lost
        # for good); only the wait for the daemon stays interruptible at once.
        # A held Ctrl-C is raised on leaving, the frame's items kept in _ready.
        with self._interrupts as interrupts:
            self._fill(interrupts)
        return self._ready.popleft()

    def _fill(self, interrupts) -> None:
        """Read frames until ``_ready`` has items; raises StopIteration at the end."""
        if self._assembler is None:
            from chatthy.wire.reorder import StreamAssembler

            if self._abandoned:
                self._done = True
                self.result = {"status": "cancelled"}
                raise StopIteration
            self._assembler = StreamAssembler(self.request_id)
            self.client.send_frame("request", self.request_id, method=self.method, params=self.params)
        while not self._ready:
            try:
                env = self.client.receive_for(self.request_id, None, interrupts)
            except DaemonUnavailable:
                if not self._can_resume():
                    raise
                self._resume()  # held to its end: a half-made resume could not be drained
                continue
            if env.type == "chunk":
                for ready in self._assembler.feed(env):
                    self._ready.append(("chunk", ready.data))
            elif env.type == "event":
                if isinstance(env.data, dict) and env.data.get("kind") == "start" and self.start is None:
                    self.start = env.data
                self._ready.append(("event", env.data))
            elif env.type == "end":
                data = env.data if isinstance(env.data, dict) else {}
                self._done = True
                if "sha256" in data:
                    self._assembler.finish(env)
                self.result = data
                raise StopIteration
            elif env.type == "error":
                self._done = True
                if self._resumed and isinstance(env.data, dict) and env.data.get("code") == "not_found":
                    raise DaemonUnavailable(self._died_message())  # a new daemon answered
                raise errors.from_wire(env.data)

    def _can_resume(self) -> bool:
        return bool(self.start and self.start.get("generation")) and self._resumed < 3

    def _resume(self) -> None:
        """Reconnect and follow the same generation from the next seq we lack."""
        from chatthy.wire.reorder import StreamAssembler

        self._resumed += 1
        self.client.close()
        old = self._assembler
        self.request_id = os.urandom(8).hex()
        self._assembler = StreamAssembler(self.request_id, start_seq=old.next_seq, prefix_text=old.text)
        params = {"generation": self.start["generation"], "from_seq": old.next_seq}
        # Never autostart here: a new daemon would not know this generation.
        autostart, self.client.autostart = self.client.autostart, False
        try:
            for attempt, delay in enumerate(RESUME_DELAYS):
                time.sleep(delay)
                try:
                    self.client.send_frame("request", self.request_id, method="gen.attach", params=params)
                    return
                except DaemonUnavailable as exc:
                    if isinstance(exc.__cause__, (FileNotFoundError, ConnectionRefusedError)):
                        # Nobody listens: the daemon died, and the reply with it.
                        raise DaemonUnavailable(self._died_message()) from exc
                    if attempt == len(RESUME_DELAYS) - 1:
                        raise
        finally:
            self.client.autostart = autostart

    def _died_message(self) -> str:
        chat = (self.start or {}).get("chat", "?")
        return (f"the daemon stopped during the reply; the text up to its last save is kept "
                f"in chat {chat!r} (`chatthy chat show {chat}`)")
