"""A stored tool that has gone from the config: the reply goes on without it, said once in the log and on stderr."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import make_home, running_daemon
from tests.fakes.provider_server import FakeProviderServer
from tests.fakes.replies import Text
from tests.persona_tools.conftest import SHOUT_TOOL, completions, offered, persona_json


@pytest.fixture
def gone(fake):
    """A home whose config has the user tool ``shout``; ``restart_without_shout()`` takes it away."""
    home = make_home(fake)
    config = home.config_dir / "config.toml"
    base = config.read_text()
    config.write_text(base + SHOUT_TOOL)
    state = {"daemon": running_daemon(home)}
    state["daemon"].__enter__()

    def restart_without_shout():
        state["daemon"].__exit__(None, None, None)
        config.write_text(base)
        state["daemon"] = running_daemon(home)
        state["daemon"].__enter__()

    home.restart_without_shout = restart_without_shout
    try:
        yield home
    finally:
        state["daemon"].__exit__(None, None, None)
        shutil.rmtree(home.root, ignore_errors=True)


def warnings_in_log(home) -> list[str]:
    log = home.state_dir / "daemon.log"
    return [line for line in log.read_text().splitlines() if "WARNING" in line and "shout" in line]


def test_a_personas_vanished_tool_is_left_out_with_one_notice(gone, fake: FakeProviderServer):
    gone.run("persona", "set", "loud", "Be loud.", "--tools", "shout,calculator", check=True)
    gone.run("ask", "-c", "loud", "-P", "loud", "hello", check=True)
    assert offered(completions(fake)[-1]) == ["shout", "calculator"]

    gone.restart_without_shout()
    fake.clear()
    fake.script(Text(["still here"]))
    out = gone.run("ask", "-c", "loud", "hello again")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "still here\n"
    assert offered(completions(fake)[-1]) == ["calculator"]
    lines = [line for line in out.stderr.splitlines() if "shout" in line]
    assert lines == [
        "chatthy: personality 'loud' names tool 'shout', which the daemon does not have now (see `chatthy tools "
        "list`; change it with `chatthy persona set loud --tools …`); replying without it"]
    logged = warnings_in_log(gone)
    assert len(logged) == 1 and "chat 'loud'" in logged[0] and "personality 'loud'" in logged[0]
    # -q silences the notice, not the reply
    out = gone.run("-q", "ask", "-c", "loud", "and again")
    assert out.returncode == 0 and "shout" not in out.stderr
    assert len(warnings_in_log(gone)) == 2  # one line per reply
    # the personality itself is untouched: putting the tool back brings it back
    assert persona_json(gone, "loud")["tools"] == ["shout", "calculator"]
    # ...and setting it anew now refuses the missing name, writing nothing
    out = gone.run("persona", "set", "loud", "--tools", "shout")
    assert out.returncode == 2 and "unknown tool 'shout'" in out.stderr
    assert persona_json(gone, "loud")["tools"] == ["shout", "calculator"]


def test_a_chats_stored_vanished_tool_is_handled_the_same_way(gone, fake: FakeProviderServer):
    gone.run("ask", "-c", "kept", "-T", "shout", "hello", check=True)
    gone.restart_without_shout()
    fake.clear()
    out = gone.run("ask", "-c", "kept", "hello again")
    assert out.returncode == 0, out.stderr
    assert offered(completions(fake)[-1]) == []  # its only tool is gone: none, not [tools] default
    assert "chat 'kept' names tool 'shout'" in out.stderr
    assert "`chatthy tools set -c kept …`" in out.stderr
    assert len(warnings_in_log(gone)) == 1
    # typed with the ask, an unknown name is still refused before anything is written
    out = gone.run("ask", "-c", "kept", "-T", "shout", "once more")
    assert out.returncode == 2 and "unknown tool 'shout'" in out.stderr
    messages = json.loads(gone.run("chat", "show", "kept", "--json", check=True).stdout)["messages"]
    assert len(messages) == 4
