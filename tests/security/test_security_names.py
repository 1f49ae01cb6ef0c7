"""Names from users are data; model output never drives the terminal.

Names (chats, profiles, workspace files) full of path traversal, SQL, shell
and format metacharacters are stored and shown as they are, and never become
a path or a query; names with control characters are refused (they could
drive the terminal when listed). Model output with escape sequences reaches a
terminal neutralised (visible ``^[``), checked through a real pty.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time

import pytest

from chatthy.client import Client
from chatthy.errors import BadRequest
from chatthy.paths import resolve
from tests.conftest import CHATTHY
from tests.fakes.replies import Text
from tests.reliability.reliability_support import db_query

ACCEPTED = [
    "../../../etc/passwd",
    "..",
    "/absolute/path",
    "C:\\Windows\\System32",
    "'; DROP TABLE chats; --",
    "Robert'); DROP TABLE messages;--",
    '" OR 1=1 --',
    "%s%n%x%d",
    "$(touch /tmp/chatthy-pwned)",
    "`touch /tmp/chatthy-pwned`",
    "*?[a-z]{1,2}",
    "name with  spaces",
    "日本語の名前",
    "emoji 🎉 name",
    "x" * 200,
]
REFUSED = [
    "\x1b[31mred",
    "\x1b]0;pwned\x07",
    "bell\x07",
    "new\nline",
    "tab\tname",
    "nul\x00byte",
    "\u202eright-to-left override",
    "zero\u200bwidth",
    "c1\x9b31m",
    "x" * 201,
    "   ",
]


@pytest.fixture(scope="module")
def client(mhome, mdaemon):
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in mhome.env.items() if k.startswith("CHATTHY_")})
    try:
        with Client(resolve(), autostart=False) as c:
            yield c
    finally:
        os.environ.clear()
        os.environ.update(saved)


def files_under(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


def test_hostile_chat_names_are_just_names(mhome, mdaemon, client):
    before = files_under(mhome.root)
    for i, name in enumerate(ACCEPTED):
        out = mhome.run("ask", "-c", name, f"question {i}")
        assert out.returncode == 0, (name, out.stderr)
        shown = client.call("chat.show", name=name)
        assert shown["name"] == name and shown["messages"][0]["content"] == f"question {i}"
    listed = {c["name"] for c in json.loads(mhome.run("chat", "list", "--json", check=True).stdout)}
    assert set(ACCEPTED) <= listed
    # Plain listing (not a TTY: tab-separated) shows them byte for byte.
    plain = mhome.run("chat", "list", check=True).stdout
    assert all(name in plain for name in ACCEPTED)
    # Nothing became a file, no command ran, every table is still there.
    new_files = files_under(mhome.root) - before
    assert all(f.startswith(("data/", "state/")) for f in new_files), new_files
    assert not os.path.exists("/tmp/chatthy-pwned")
    tables = {r[0] for r in db_query(mhome, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"chats", "messages", "profiles"} <= tables
    assert db_query(mhome, "PRAGMA integrity_check") == [("ok",)]
    renamed = mhome.run("chat", "rename", "'; DROP TABLE chats; --", "../renamed")
    assert renamed.returncode == 0, renamed.stderr
    assert mhome.run("chat", "delete", "../renamed", "--yes").returncode in (0, 2)


@pytest.mark.parametrize("name", REFUSED, ids=lambda n: repr(n)[:24])
def test_names_with_control_characters_are_refused(client, name):
    with pytest.raises(BadRequest) as caught:
        client.call("chat.show", name=name)
    assert "control character" in caught.value.message or "empty" in caught.value.message \
        or "longer than" in caught.value.message


def test_a_refused_name_on_the_command_line_does_not_reach_the_terminal_raw(mhome, mdaemon):
    out = mhome.run("ask", "-c", "\x1b]0;pwned\x07", "hi")
    assert out.returncode == 2
    assert "\x1b" not in out.stderr and "\x07" not in out.stderr
    assert "control character" in out.stderr


def test_hostile_profile_and_workspace_names_are_data(mhome, mdaemon, client):
    from chatthy.server import registry
    import chatthy.server.handlers  # noqa: F401

    before = files_under(mhome.root)
    if "profile.create" in registry.names():
        for name in ("../../etc", "'; DROP TABLE profiles; --"):
            client.call("profile.create", name=name)
            names = [p["name"] for p in client.call("profile.list")]
            assert name in names
    if "ws.load" in registry.names():
        mhome.run("ask", "-c", "ws-names", "hi", check=True)
        for name in ("../../outside.txt", "'; DROP TABLE workspace; --"):
            out = mhome.run("ws", "load", "-", "--name", name, "-c", "ws-names", input="some notes\n")
            assert out.returncode in (0, 2), out.stderr  # stored as a name, or refused: never a crash
            if out.returncode == 0:
                listing = json.loads(mhome.run("ws", "ls", "-c", "ws-names", "--json", check=True).stdout)
                assert name in [f["name"] for f in listing["files"]]
    new_files = files_under(mhome.root) - before
    assert all(f.startswith(("data/", "state/")) for f in new_files), new_files
    assert not os.path.exists(mhome.root / "outside.txt") and not os.path.exists("/outside.txt")


# -- model output through a real terminal ------------------------------------------------

HOSTILE_REPLY = ["plain ", "\x1b]0;pwned-title\x07", "\x1b[2J", "\x1b[31mred\x1b[0m ", "\u009b31mC1 ",
                 "\x07bell ", "\x1bP+q544e\x1b\\", "end"]
SGR = re.compile(rb"\x1b\[[0-9;]*m")
# What the Markdown renderer itself writes to redraw its provisional tail on a
# terminal (chatthy/render/stream.py): cursor up N lines, erase to the end of
# the screen. Exactly these, so the model's own "\x1b[2J" still counts.
RENDERER_MOVES = re.compile(rb"\x1b\[[0-9]+A|\x1b\[J")


def run_in_pty(home, *args: str, env: dict | None = None, timeout: float = 30) -> bytes:
    master, slave = pty.openpty()
    proc = subprocess.Popen([CHATTHY, *args], env=env or home.env, stdin=slave, stdout=slave, stderr=slave,
                            close_fds=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        proc.wait(timeout)
    finally:
        os.close(master)
    return bytes(out)


def assert_no_model_escapes(out: bytes, *, colour: bool) -> None:
    text = RENDERER_MOVES.sub(b"", out)
    text = SGR.sub(b"", text) if colour else text  # the renderer's own colours are allowed
    assert b"\x1b" not in text, out
    assert b"\x07" not in text and b"\xc2\x9b" not in text, out
    assert b"^[" in out  # shown, not obeyed


@pytest.mark.parametrize("colour", [False, True], ids=["no-colour", "colour"])
def test_model_output_cannot_drive_the_terminal(mhome, mfake, mdaemon, colour):
    env = dict(mhome.env)
    if colour:
        env.pop("NO_COLOR", None)
        env["TERM"] = "xterm-256color"
    chat = f"escapes-{colour}"
    mfake.script(Text(HOSTILE_REPLY))
    args = ("--color", "always") if colour else ()
    out = run_in_pty(mhome, *args, "ask", "-c", chat, "say something nasty", env=env)
    assert b"plain" in out and b"end" in out
    assert_no_model_escapes(out, colour=colour)
    shown = run_in_pty(mhome, *args, "chat", "show", chat, env=env)
    assert b"plain" in shown
    assert_no_model_escapes(shown, colour=colour)
    # Stored exactly as the model sent it: neutralising is for display only.
    stored = json.loads(mhome.run("chat", "show", chat, "--json", check=True).stdout)
    assert stored["messages"][1]["content"] == "".join(HOSTILE_REPLY)
