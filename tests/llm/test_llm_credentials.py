"""API keys from the environment or a command; missing keys say how to fix them."""

from __future__ import annotations

import shlex
import sys

import pytest

from chatthy.errors import ConfigError
from chatthy.llm import resolve_api_key
from chatthy.llm.credentials import NO_KEY

from .harness import KINDS, FakeSettings, request, stream_once

ENV = "CHATTHY_TEST_PROVIDER_KEY"


def settings(**kw) -> FakeSettings:
    kw.setdefault("name", "openai")
    kw.setdefault("kind", "openai")
    kw.setdefault("key_required", True)
    return FakeSettings(**kw)


def python_cmd(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def test_key_from_the_environment(monkeypatch):
    monkeypatch.setenv(ENV, "  sk-from-env \n")
    assert resolve_api_key(settings(api_key_env=ENV)) == "sk-from-env"


def test_missing_required_key_names_the_variable_and_the_fix(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        resolve_api_key(settings(api_key_env="OPENAI_API_KEY"))
    assert info.value.message == (
        "OPENAI_API_KEY is not set: export OPENAI_API_KEY=…, "
        "or set api_key_cmd under [providers.openai] in config.toml"
    )


def test_no_key_configured_at_all(monkeypatch):
    with pytest.raises(ConfigError, match=r"provider 'work' has no API key.*\[providers\.work\]"):
        resolve_api_key(settings(name="work"))


def test_local_servers_get_a_dummy_key(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert resolve_api_key(settings(api_key_env=ENV, key_required=False)) == NO_KEY


def test_key_from_a_command_first_line_stripped(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    cmd = python_cmd("print('  sk-from-cmd  '); print('second line')")
    assert resolve_api_key(settings(api_key_env=ENV, api_key_cmd=cmd)) == "sk-from-cmd"


def test_the_environment_wins_over_the_command(monkeypatch):
    monkeypatch.setenv(ENV, "sk-env")
    cmd = python_cmd("raise SystemExit('must not run')")
    assert resolve_api_key(settings(api_key_env=ENV, api_key_cmd=cmd)) == "sk-env"


def test_the_command_runs_without_a_shell():
    # With a shell, `;` would end the echo and `false` would make it fail.
    assert resolve_api_key(settings(api_key_cmd="echo sk-1 ; false")) == "sk-1 ; false"


def test_a_failing_command_reports_its_stderr_not_its_output():
    cmd = python_cmd("import sys; print('sk-secret'); print('warming up', file=sys.stderr); "
                     "print('vault is locked', file=sys.stderr); sys.exit(3)")
    with pytest.raises(ConfigError) as info:
        resolve_api_key(settings(api_key_cmd=cmd))
    message = info.value.message
    assert message.startswith("api_key_cmd of provider 'openai' failed: `")
    assert message.endswith("exited with status 3: vault is locked")
    assert "sk-secret" not in message.replace(cmd, "")


def test_a_command_that_prints_nothing():
    with pytest.raises(ConfigError, match="printed no key"):
        resolve_api_key(settings(api_key_cmd=python_cmd("pass")))


def test_a_command_that_does_not_exist():
    with pytest.raises(ConfigError, match="command not found: no-such-key-tool-xyz"):
        resolve_api_key(settings(api_key_cmd="no-such-key-tool-xyz --get openai"))


@pytest.mark.parametrize("kind", KINDS)
def test_the_key_reaches_the_server(fake, settings_for, kind):
    cmd = python_cmd("print('sk-test-123')")
    events, error = stream_once(settings_for(kind, api_key_cmd=cmd, key_required=True), request())
    assert error is None
    [sent] = [r for r in fake.requests if r.method == "POST"]
    # anthropic 2.x sends api_key as a bearer token too (older SDKs used x-api-key)
    assert sent.headers.get("authorization") == "Bearer sk-test-123"


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_key_fails_the_stream_before_any_request(fake, settings_for, kind, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    events, error = stream_once(settings_for(kind, api_key_env=ENV, key_required=True), request())
    assert events == [] and isinstance(error, ConfigError)
    assert error.message.startswith(f"{ENV} is not set: export {ENV}=…")
    assert f"[providers.{kind}]" in error.message
    assert fake.requests == []
