"""Ctrl-C during a streamed reply never loses a frame.

A SIGINT that strikes while the client is reading, verifying or reordering a
frame is held until the frame has been handed over; one that strikes while
the client waits for the daemon interrupts at once. Either way the drain
after the cancel reads every frame to the closing one, whose count and
sha256 then add up (no StreamGap, no StreamCorrupt), and the chat keeps the
partial reply marked "cancelled".

In process, a real SIGINT (``signal.raise_signal``) is raised right after
each step of the receive path returns: the moment a signal arriving then
would be acted on. Out of process, real SIGINTs hit a real ``chatthy ask``
at many moments of a long reply.
"""

from __future__ import annotations

import _socket
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from chatthy.client import Client
from chatthy.paths import Paths
from chatthy.wire.reorder import StreamAssembler
from tests.conftest import CHATTHY
from tests.fakes.replies import Stall, Text
from tests.reliability.reliability_support import db_query

WORDS = [f"w{i:04d} " for i in range(400)]
SLOW_REPLY = Text(WORDS, delay=0.004)  # ~1.6 s: far longer than any test needs to cancel it


def paths_of(home) -> Paths:
    return Paths(home.config_dir, home.data_dir, home.state_dir, home.socket)


def stored_reply(home, chat: str) -> list[tuple]:
    return db_query(home, "SELECT m.content, m.status FROM messages m JOIN chats c ON c.id = m.chat_id"
                          " WHERE c.name = ? AND m.role = 'assistant'", (chat,))


class Interrupter:
    """Raises SIGINT in this process once, right after the ``at``-th call of the wrapped step returns."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0
        self.fired = False

    def after(self, result):
        self.calls += 1
        if self.calls == self.at and not self.fired:
            self.fired = True
            signal.raise_signal(signal.SIGINT)  # its handler runs before this call returns
        return result

    def wrap(self, func):
        def wrapped(*args, **kwargs):
            return self.after(func(*args, **kwargs))
        return wrapped


class WatchedSocket:
    """The channel's socket, its ``recv`` watched; a blocking read gives up after 20 s (no hung test)."""

    def __init__(self, sock, interrupter: Interrupter, peeks: bool) -> None:
        self._sock = sock
        self._interrupter = interrupter
        self._peeks = peeks  # watch the waits that take nothing (MSG_PEEK), else the reads

    def recv(self, size, flags=0):
        data = self._sock.recv(size, flags)
        if data and bool(flags) == self._peeks:
            return self._interrupter.after(data)
        return data

    def settimeout(self, timeout):
        self._sock.settimeout(20.0 if timeout is None else timeout)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class WatchedVerifier:
    """The channel's verifier (slotted: its ``open`` cannot be replaced in place), ``open`` watched."""

    def __init__(self, verifier, interrupter: Interrupter) -> None:
        self._verifier = verifier
        self.open = interrupter.wrap(verifier.open)

    def __getattr__(self, name):
        return getattr(self._verifier, name)


def watch(point: str, client: Client, interrupter: Interrupter, monkeypatch) -> None:
    """Make ``interrupter`` strike right after step ``point`` of the receive path."""
    channel = client.connect()
    # "recv": the socket has returned bytes; "wait": the wait for them has ended (it takes none).
    watched = interrupter if point in ("recv", "wait") else Interrupter(at=0)  # at=0: never strikes
    channel._sock = WatchedSocket(channel._sock, watched, peeks=point == "wait")
    channel._timeout = object()  # unknown: the channel sets it again, through the wrapper
    if point == "popleft":  # the decoded body has left the queue; it is not opened yet
        bodies = channel._bodies

        class PoppedBodies(type(bodies)):
            def popleft(self):
                return interrupter.after(super().popleft())

        channel._bodies = PoppedBodies(bodies)
    elif point == "verify":  # the verifier has recorded the frame's nonce: opening it again is a replay
        channel._verifier = WatchedVerifier(channel._verifier, interrupter)
    elif point == "open":
        channel._open = interrupter.wrap(channel._open)
    elif point == "receive":  # the client has the envelope; the stream has not stored it yet
        client.receive_for = interrupter.wrap(client.receive_for)
    elif point == "reorder":  # the assembler has taken the chunk; the stream has not queued it yet
        monkeypatch.setattr(StreamAssembler, "feed", interrupter.wrap(StreamAssembler.feed))


POINTS = ["recv", "wait", "popleft", "verify", "open", "receive", "reorder"]


@pytest.mark.parametrize("at", [3, 7])
@pytest.mark.parametrize("point", POINTS)
def test_an_interrupt_at_any_step_of_reading_loses_no_frame(mhome, mfake, mdaemon, point, at, monkeypatch):
    mfake.script(SLOW_REPLY)
    chat = f"inproc-{point}-{at}"
    interrupter = Interrupter(at)
    shown: list[str] = []
    with Client(paths_of(mhome), autostart=False) as client:
        watch(point, client, interrupter, monkeypatch)
        stream = client.stream("ask", chat=chat, prompt="a long story")
        with pytest.raises(KeyboardInterrupt):
            for kind, data in stream:
                if kind == "chunk":
                    shown.append(data["text"])
        assert interrupter.fired
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        stream.cancel()
        for kind, data in stream:  # what asking._cancelled does, minus its last-resort guard
            if kind == "chunk":
                shown.append(data["text"])
    # The end frame's count and sha256 matched (else the drain raised StreamGap/StreamCorrupt).
    assert stream.result["status"] == "cancelled"
    text = "".join(shown)
    assert text == stream.text  # every chunk, once, in order
    assert "".join(WORDS).startswith(text) and text.endswith(" ") and 0 < len(text) < len("".join(WORDS))
    assert stored_reply(mhome, chat) == [(text, "cancelled")]


def test_ctrl_c_while_waiting_for_the_model_acts_at_once(mhome, mfake, mdaemon):
    """Nothing is in flight during the wait, so nothing is held: the interrupt comes now, not after the stall."""
    mfake.script(Stall(after_chunks=2, seconds=8))
    with Client(paths_of(mhome), autostart=False) as client:
        stream = client.stream("ask", chat="stalled", prompt="think hard")
        kill = None
        with pytest.raises(KeyboardInterrupt):
            for kind, _ in stream:
                if kind == "chunk" and stream.text == "tok tok " and kill is None:
                    kill = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
                    sent = time.monotonic() + 0.3
                    kill.start()
        interrupted = time.monotonic()
        kill.join()
        assert interrupted - sent < 0.5  # (the model stays silent for 8 s)
        stream.cancel()
        for _ in stream:
            pass
        assert time.monotonic() - sent < 3  # the daemon stopped the stalled reply at once too
    assert stream.result["status"] == "cancelled"
    assert stored_reply(mhome, "stalled") == [("tok tok ", "cancelled")]


def test_the_callers_own_handler_runs_late_but_whole_and_is_put_back(mhome, mfake, mdaemon, monkeypatch):
    class Stop(Exception):
        pass

    calls = []

    def mine(signum, frame):
        calls.append(signum)
        raise Stop

    mfake.script(SLOW_REPLY)
    interrupter = Interrupter(4)
    previous = signal.signal(signal.SIGINT, mine)
    try:
        with Client(paths_of(mhome), autostart=False) as client:
            watch("verify", client, interrupter, monkeypatch)
            stream = client.stream("ask", chat="own-handler", prompt="a long story")
            with pytest.raises(Stop):
                for _ in stream:
                    assert signal.getsignal(signal.SIGINT) is mine  # between frames: the caller's own
            assert calls == [signal.SIGINT] and signal.getsignal(signal.SIGINT) is mine
            stream.cancel()
            for _ in stream:
                pass
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stream.result["status"] == "cancelled"
    assert stored_reply(mhome, "own-handler") == [(stream.text, "cancelled")]


def test_an_ignored_sigint_stays_ignored(mhome, mfake, mdaemon, monkeypatch):
    mfake.script(Text(WORDS[:30]))
    interrupter = Interrupter(2)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Client(paths_of(mhome), autostart=False) as client:
            watch("open", client, interrupter, monkeypatch)
            stream = client.stream("ask", chat="ignored", prompt="hi")
            for _ in stream:
                assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert interrupter.fired and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stream.result["status"] == "complete" and stream.text == "".join(WORDS[:30])


def test_streams_in_other_threads_are_left_alone(mhome, mfake, mdaemon):
    """Only the main thread may set handlers (the REPL streams in worker threads)."""
    mfake.script(Text(WORDS[:30]))
    outcome: list = []

    def follow() -> None:
        try:
            with Client(paths_of(mhome), autostart=False) as client:
                stream = client.stream("ask", chat="threaded", prompt="hi")
                outcome.append("".join(data["text"] for kind, data in stream if kind == "chunk"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)

    worker = threading.Thread(target=follow)
    worker.start()
    worker.join(30)
    assert outcome == ["".join(WORDS[:30])]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_cancel_before_the_request_went_out_sends_nothing(mhome, mfake, mdaemon):
    """Ctrl-C while connecting (or starting the daemon): the drain must not send the ask after all."""
    asked = len(mfake.requests)
    with Client(paths_of(mhome), autostart=False) as client:
        stream = client.stream("ask", chat="never-asked", prompt="hi")
        stream.cancel()
        assert list(stream) == []
    assert stream.result == {"status": "cancelled"}
    assert len(mfake.requests) == asked
    assert stored_reply(mhome, "never-asked") == []


def test_a_cancel_after_a_resume_stops_the_reply_itself(mhome, mfake, mdaemon):
    """A resumed stream follows the reply with gen.attach: Ctrl-C must still stop the generation."""
    mfake.script(SLOW_REPLY)
    shown: list[str] = []
    with Client(paths_of(mhome), autostart=False) as client:
        stream = client.stream("ask", chat="resumed", prompt="a long story")
        for kind, data in stream:
            if kind == "chunk":
                shown.append(data["text"])
                if len(shown) == 3 and not stream._resumed:
                    client._channel._sock.shutdown(_socket.SHUT_RDWR)  # the connection is lost
                elif stream._resumed and len(shown) >= 6:
                    break
        assert stream._resumed == 1
        stream.cancel()
        for kind, data in stream:
            if kind == "chunk":
                shown.append(data["text"])
    assert stream.result["status"] == "cancelled"
    text = "".join(shown)
    assert text == stream.text and "".join(WORDS).startswith(text) and len(text) < len("".join(WORDS))
    assert stored_reply(mhome, "resumed") == [(text, "cancelled")]


# -- real SIGINTs at a real `chatthy ask` ------------------------------------------

CANCELLED_LINE = "chatthy: error: cancelled: the partial reply is kept in the chat\n"


def ask_and_interrupt(home, chat: str, delay: float) -> tuple[int, str, str]:
    """Run `chatthy ask`, send SIGINT ``delay`` s after its first byte of reply; (exit code, stdout, stderr)."""
    proc = home.popen("ask", "-c", chat, "a long story", stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
    out = bytearray()
    started = threading.Event()

    def read() -> None:  # keep reading, as a terminal would: a full pipe would block the client
        while piece := proc.stdout.read1(65536):
            out.extend(piece)
            started.set()
        started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(30), "no reply began"
    deadline = time.perf_counter() + delay
    while time.perf_counter() < deadline:  # spin: sleep() is too coarse for millisecond steps
        pass
    proc.send_signal(signal.SIGINT)
    try:
        err = proc.stderr.read()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode, out.decode(), err.decode()


def check_cancelled_run(home, chat: str, code: int, out: str, err: str, full: str, *, may_complete: bool) -> str:
    where = f"chat {chat}"
    assert code == 130, (where, code, err)
    assert err == CANCELLED_LINE, (where, err)  # one line, no traceback
    [(content, status)] = stored_reply(home, chat)
    assert out.endswith("\n") and content.startswith(out[:-1]), where  # what was shown is what is kept
    if status == "complete":  # the daemon had finished before the cancel reached it (the client lagged)
        assert may_complete and content == full, where
    else:
        assert status == "cancelled" and full.startswith(content) and len(content) < len(full), (where, status)
    return status


def test_sigint_at_random_moments_of_a_slow_reply(mhome, mfake, mdaemon):
    words = [f"s{i:04d} " for i in range(1500)]
    rng = random.Random(os.environ.get("CHATTHY_TEST_SEED", "ctrl-c"))
    for run in range(40):
        mfake.script(Text(words, delay=0.001))  # ~2 s of reply; every SIGINT lands well within it
        delay = rng.uniform(0, 0.25)
        chat = f"slow-{run}"
        code, out, err = ask_and_interrupt(mhome, chat, delay)
        check_cancelled_run(mhome, chat, code, out, err, "".join(words), may_complete=False)


def test_sigint_at_tight_intervals_into_a_fast_reply(mhome, mfake, mdaemon):
    """A zero-delay 5,000-chunk reply keeps the client busy reading, verifying and reordering
    frames: one SIGINT a run, each 1.5 ms later than the last, lands in the middle of that work."""
    words = [f"f{i:04d} " for i in range(5000)]
    statuses = []
    for run in range(24):
        mfake.script(Text(words))
        chat = f"fast-{run}"
        code, out, err = ask_and_interrupt(mhome, chat, run * 0.0015)
        statuses.append(check_cancelled_run(mhome, chat, code, out, err, "".join(words), may_complete=True))
    assert "cancelled" in statuses


def test_only_streams_load_the_deferral_and_nothing_loads_signal_py(mhome, mfake, mdaemon):
    """signal.py builds IntEnums at import; the C module it wraps is all a stream needs."""
    mfake.script(Text(["hi"]))
    mhome.run("ask", "-c", "imports", "hi", check=True)
    loaded = {}
    for args in (("chat", "list"), ("ask", "-c", "imports", "again")):
        out = subprocess.run([sys.executable, "-X", "importtime", CHATTHY, *args], env=mhome.env,
                             capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert out.returncode == 0, out.stderr
        loaded[args[0]] = {line.split("|")[-1].strip() for line in out.stderr.splitlines()
                           if line.startswith("import time:")}
    assert "chatthy.client" in loaded["chat"] and "chatthy.deferred_sigint" not in loaded["chat"]
    assert "chatthy.deferred_sigint" in loaded["ask"]
    assert "signal" not in loaded["chat"] | loaded["ask"]
