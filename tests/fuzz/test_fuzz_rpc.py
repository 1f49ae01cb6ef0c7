"""Every registered RPC method, with random parameters, against a real daemon.

The method table is read from ``chatthy.server.registry`` (so methods added
later are fuzzed too); parameters are drawn from each method's schema, mostly
of the right type with hostile values, sometimes of the wrong type, missing,
or unknown. Each request must be answered with its result or a typed error
(never ``internal``: that is an unhandled exception in a handler) within a
few seconds; streams are followed to their end or cancelled. The daemon must
stay up, keep answering, and not grow without bound.

``CHATTHY_FUZZ_EXAMPLES`` sets the number of random requests per round (default 200; two rounds); see
README.md ("Reliability") for the long run.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatthy.server.handlers  # noqa: F401  (fills the registry)
from chatthy.server import registry
from chatthy.wire.channel_sync import SyncChannel
from chatthy.wire.keys import load_client_keys
from chatthy.wire.signing import Signer, Verifier
from tests.fakes.provider_server import FakeProviderServer
from tests.reliability.reliability_support import DaemonProcess, log_text, new_home, remove_home

EXAMPLES = int(os.environ.get("CHATTHY_FUZZ_EXAMPLES", "200"))
# Stopping the daemon is what daemon.stop is for; everything else is fair game.
SKIP = {"daemon.stop"}
FIRST_FRAME_WAIT = 3.0  # then the request is cancelled (e.g. chat.watch waits for events forever)
ANSWER_WAIT = 20.0  # after which a request that has not ended counts as a hang
KNOWN_CODES = {"bad_request", "not_found", "conflict", "busy", "too_large", "provider_error",
               "context_overflow", "cancelled", "config_error", "unavailable", "unauthorised"}
NAMES = ["fz", "default", "fz-other", "", "..", "x" * 201]

junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
hostile_text = st.text(max_size=60) | st.sampled_from(
    ["../../etc/passwd", "'; DROP TABLE chats; --", "\x1b[2J", "%s%n", "\u202e", "a\x00b", "http://127.0.0.1:9/x",
     "/dev/zero", "/etc/shadow", "~", "*", "{{var}}", "\ud800" if False else "\uffff"])


def plausible(spec):
    """A value that passes validation, to reach each handler's body at least once."""
    if spec.default is not None:
        return list(spec.default) if spec.kind == "strlist" else spec.default
    return {"str": spec.choices[0] if spec.choices else "fz", "name": "fz", "text": "fz", "int": spec.min or 0,
            "bool": False, "strlist": [], "dict": {}}[spec.kind]


def value_for(spec) -> st.SearchStrategy:
    kind = spec.kind
    if kind in ("str", "name", "text"):
        choices = st.sampled_from(spec.choices) if spec.choices else st.nothing()
        return st.sampled_from(NAMES) | hostile_text | choices | choices
    if kind == "int":
        lo = spec.min if spec.min is not None else -(2**31)
        hi = spec.max if spec.max is not None else 2**31
        return (st.integers(max(lo, -5), min(hi, 50)) | st.integers(lo - 2, hi + 2)
                | st.integers(min_value=-(2**70), max_value=2**70))
    if kind == "bool":
        return st.booleans()
    if kind == "strlist":
        return st.lists(hostile_text | st.sampled_from(NAMES), max_size=6)
    if kind == "dict":
        return st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=10), max_size=4)
    return junk


@st.composite
def requests(draw, methods: list[str]):
    name = draw(st.sampled_from(methods))
    schema = registry.lookup(name).schema
    params = {}
    for key, spec in schema.items():
        roll = draw(st.integers(0, 19))
        if roll < 15:
            params[key] = draw(value_for(spec))
        elif roll < 17:
            params[key] = draw(junk)
        # else: left out
    if draw(st.integers(0, 19)) == 0:
        params[draw(st.text(min_size=1, max_size=8))] = draw(junk)
    return name, params


class Session:
    """One long-lived, verified connection to the daemon, reopened if the daemon closes it."""

    def __init__(self, home) -> None:
        self.home = home
        key, self.daemon_key = load_client_keys(home.config_dir)
        self.signer = Signer(key)
        self.channel: SyncChannel | None = None
        self.counter = 0

    def _channel(self) -> SyncChannel:
        if self.channel is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(os.fspath(self.home.socket))
            self.channel = SyncChannel(sock, self.signer, Verifier(lambda: (self.daemon_key,)))
        return self.channel

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def request(self, method: str, params: dict) -> tuple[str, dict | None]:
        """("end" | "error", data); AssertionError on a hang or a closed connection."""
        self.counter += 1
        rid = f"fz{self.counter}"
        channel = self._channel()
        channel.send("request", rid, method=method, params=params)
        deadline = time.monotonic() + ANSWER_WAIT
        cancelled = False
        first_wait = FIRST_FRAME_WAIT
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{method}({params!r}) did not end within {ANSWER_WAIT} s"
            try:
                env = channel.receive(timeout=min(remaining, first_wait))
            except TimeoutError:
                if cancelled:
                    continue
                channel.send("cancel", rid)  # a request that waits for something: stop it
                cancelled = True
                continue
            if env.id != rid:
                continue  # a late frame of an earlier, cancelled request
            if env.type in ("end", "error"):
                return env.type, env.data
            if not cancelled:  # a stream: follow it for a while, then stop it
                first_wait = max(0.05, FIRST_FRAME_WAIT - (ANSWER_WAIT - remaining))


@pytest.fixture(scope="module")
def fuzz_daemon():
    with FakeProviderServer() as fake:
        home = new_home(fake)
        try:
            with DaemonProcess(home) as daemon:
                assert home.run("ask", "-c", "fz", "hello").returncode == 0
                session = Session(home)
                try:
                    yield home, daemon, session
                finally:
                    session.close()
        finally:
            remove_home(home)


def test_every_method_is_fuzzed():
    assert {"ask", "chat.list", "chat.show", "gen.attach"} <= set(registry.names())


def test_every_rpc_with_random_parameters(fuzz_daemon):
    home, daemon, session = fuzz_daemon
    methods = [m for m in registry.names() if m not in SKIP]
    outcomes: Counter = Counter()
    per_method: Counter = Counter()
    internal: list[str] = []
    started = time.monotonic()

    def check(method, params):
        per_method[method] += 1
        kind, data = session.request(method, params)
        code = data.get("code") if kind == "error" and isinstance(data, dict) else None
        outcomes[code or "ok"] += 1
        if code == "internal" or (code is not None and code not in KNOWN_CODES):
            internal.append(f"{method}({params!r}) -> {code}: {data.get('message')}")
        assert daemon.alive(), "the daemon died"

    # Every method once with parameters that validate: each handler's body runs
    # (and loads what it loads: the memory bound is judged after this).
    for method in methods:
        schema = registry.lookup(method).schema
        check(method, {key: plausible(spec) for key, spec in schema.items() if spec.required or key == "name"})
    daemon.wait_warm()
    rss_warm = daemon.rss_kb()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(requests(methods))
    def one(request):
        check(*request)

    one()
    rss_half = daemon.rss_kb()
    one()  # a second run: memory must not keep growing with the number of requests
    elapsed = time.monotonic() - started
    rss_after = daemon.rss_kb()
    print(f"rpc fuzz: {sum(per_method.values())} requests over {len(per_method)}/{len(methods)} methods "
          f"in {elapsed:.1f} s; outcomes {dict(outcomes)}; daemon RSS after warm-up {rss_warm // 1024} MiB, "
          f"after {EXAMPLES} more {rss_half // 1024} MiB, after {2 * EXAMPLES} {rss_after // 1024} MiB")
    assert internal == [], "\n".join(internal[:10])
    assert "Traceback" not in log_text(home), log_text(home)[-4000:]
    assert home.run("ask", "-c", "fz", "still fine?").returncode == 0
    assert (rss_after - rss_half) / 1024 < 32, "daemon memory keeps growing with requests"
