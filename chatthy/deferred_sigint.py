"""Ctrl-C that waits until a received frame has been handed over.

A stream's frames pass through several hands on the client: the socket's
bytes, the frame decoder, the verifier (which records each frame's nonce,
so the same frame can never be opened twice), the reorderer. A
KeyboardInterrupt raised in between drops the frame on the floor, and the
drain after a cancel then ends in StreamGap. So while ``Stream`` works on
received data, a SIGINT is only recorded, and acted on once the state is
whole again; while it waits for the daemon (``blocking``), nothing is in
flight and a SIGINT acts at once, as a user waiting for a slow model
expects.

    with DeferredSigint() as interrupts:   # None: SIGINT is not ours to hold
        ...                                # a SIGINT here is recorded
        interrupts.blocking(wait, *args)   # a SIGINT here acts at once
    # a recorded SIGINT acts here: the previous handler runs (KeyboardInterrupt)

Only the main thread can set a signal handler, and only it receives SIGINT;
in any other thread (the REPL's stream workers) this does nothing. A handler
that is not a Python function (SIG_IGN, SIG_DFL, one set from C) is left
alone. The previous handler is put back exactly.
"""

from __future__ import annotations

# The C module, not signal.py: it is loaded before any of our code (Python
# installs its own SIGINT handler through it), whereas signal.py builds three
# IntEnums at import, a cost every `chatthy ask` would pay for nothing.
import _signal

_SIGINT = _signal.SIGINT


class DeferredSigint:
    """Holds SIGINT inside ``with``; reusable, not reentrant, one per stream."""

    __slots__ = ("_previous", "_pending", "_waiting", "_off_main_thread")

    def __init__(self) -> None:
        self._previous = None  # the handler to restore and to act with, while installed
        self._pending: tuple | None = None  # (signum, frame) of a held SIGINT
        self._waiting = False
        self._off_main_thread = False

    def _on_sigint(self, signum, frame) -> None:
        if self._waiting:
            self._previous(signum, frame)  # nothing in flight: act now
        else:
            self._pending = (signum, frame)

    def __enter__(self) -> DeferredSigint | None:
        if self._off_main_thread:
            return None
        previous = _signal.getsignal(_SIGINT)
        if not callable(previous):
            return None
        self._previous = previous
        try:
            _signal.signal(_SIGINT, self._on_sigint)
        except ValueError:  # not the main thread: signals are not ours to handle here
            self._previous = None
            self._off_main_thread = True
            return None
        return self

    def __exit__(self, *exc_info: object) -> None:
        previous = self._previous
        if previous is None:
            return
        # Restored before looking at _pending: a SIGINT from here on goes to it directly.
        _signal.signal(_SIGINT, previous)
        self._previous = None
        pending, self._pending = self._pending, None
        if pending is not None:
            previous(*pending)  # default_int_handler raises KeyboardInterrupt, now that all is whole

    def blocking(self, wait, *args):
        """``wait(*args)`` with SIGINT acting at once: ``wait`` must take nothing it could lose.

        A SIGINT held until now acts first (the wait might not end soon). One
        that strikes as ``wait`` returns acts at once too: its result is lost,
        which is why it must be a wait (a peek), not a read.
        """
        self._waiting = True
        try:
            pending, self._pending = self._pending, None
            if pending is not None:
                self._previous(*pending)
            return wait(*args)
        finally:
            self._waiting = False
