"""Personalities that carry their own tools: one fake provider and one daemon per module.

The config sets ``[tools] default = ["current_time"]``, so every level of the
choice shows in what the provider receives: the ask's -T, the chat's choice,
the personality's tools, the default. Tests use distinct chat and persona
names; the fake's script is cleared before each test.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys

import pytest

from tests.conftest import CHATTHY, daemon_home
from tests.fakes.provider_server import FakeProviderServer

PY = json.dumps(sys.executable)

SHOUT_TOOL = f"""
[tools.user.shout]
description = "Say a text loudly"
command = [{PY}, "-c", "import json, sys; print(json.load(sys.stdin)['text'].upper())"]
parameters = {{ type = "object", properties = {{ text = {{ type = "string" }} }}, required = ["text"] }}
"""

TOOLS_CONFIG = """
[tools]
default = ["current_time"]
max_rounds = 3
""" + SHOUT_TOOL


@pytest.fixture(scope="module")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_script(request):
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").clear()


@pytest.fixture(scope="module")
def phome(provider):
    with daemon_home(provider, TOOLS_CONFIG) as home:
        yield home


def completions(provider) -> list:
    """The completion requests the fake got (model listings aside)."""
    return [r for r in provider.requests if r.method == "POST"]


def offered(request) -> list[str]:
    """The tool names an OpenAI-style request offers the model."""
    return [t["function"]["name"] for t in request.json.get("tools", [])]


def persona_json(home, name: str, *profile: str) -> dict:
    return json.loads(home.run(*profile, "persona", "show", name, "--json", check=True).stdout)


def on_terminal(home, *args) -> tuple[int, str, str]:
    """Run with stderr on a pty (stdout a pipe), where notes are shown: (exit code, stdout, stderr)."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([CHATTHY, *args], env=home.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        out = proc.stdout.read()
        code = proc.wait(60)
        chunks = []
        while select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not data:
                break
            chunks.append(data)
        proc.stdout.close()
        said = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
        return code, out.decode("utf-8", "replace"), said
    finally:
        os.close(master)
