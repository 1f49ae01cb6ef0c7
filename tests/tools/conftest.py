"""One daemon and one fake provider for all the tools tests, configured with tools, an MCP server and workflows.

Tests use distinct chat names, so they share the daemon (starting one costs
about a second); the fake's script is cleared before each test, so a test
that fails early cannot feed its leftover replies to the next.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CHATTHY, make_home
from tests.fakes.provider_server import FakeProviderServer

HERE = Path(__file__).resolve().parent
PY = json.dumps(sys.executable)

TOOLS_CONFIG = f"""
[tools]
max_rounds = 3
approval_timeout = 3

[tools.user.stamp]
description = "Stamp a text with a seal (needs the user's approval)"
command = [{PY}, "-c", "import json, sys; a = json.load(sys.stdin); print('STAMPED:' + a['text'])"]
parameters = {{ type = "object", properties = {{ text = {{ type = "string" }} }}, required = ["text"] }}
confirm = true

[tools.user.echo_args]
description = "Print its arguments"
command = [{PY}, "-c", "import sys; print(' | '.join(sys.argv[1:]))", "{{word}}", "n={{n}}"]
input = "argv"
parameters = {{ type = "object", properties = {{ word = {{ type = "string" }}, n = {{ type = "integer" }} }} }}

[tools.user.sleeper]
description = "Sleeps too long"
command = [{PY}, "-c", "import time; print('started', flush=True); time.sleep(30)"]
timeout = 1

[tools.user.chatty]
description = "Prints far too much"
command = [{PY}, "-c", "import sys; sys.stdout.write('x' * 100000)"]
max_output_kb = 1

[tools.user.failing]
description = "Exits with an error"
command = [{PY}, "-c", "import sys; sys.stderr.write('disk on fire'); sys.exit(3)"]

[mcp.testsrv]
command = [{PY}, {json.dumps(str(HERE / "mcp_server.py"))}]

[images]
max_mb = 0.05

[sources]
allow_private_urls = true  # fetch_url reads the test site on 127.0.0.1

[providers.blind]
kind = "openai"
base_url = "{{openai}}"
api_key_env = "FAKE_API_KEY"
model = "blind-model"
context_length = 8192
max_tokens = 512
max_retries = 0
vision = false
"""

LOOP_WORKFLOW = """
description = "Draft, then critique and revise until APPROVED"
result = "draft"

[[steps]]
name = "draft"
prompt = "Draft: {{input}}"

[[steps]]
name = "polish"
repeat_until = "APPROVED"
check = "critique"
max = {max}

  [[steps.steps]]
  name = "critique"
  prompt = "Critique round {{round}}: {{draft}}"

  [[steps.steps]]
  name = "revise"
  output = "draft"
  prompt = "Revise {{draft}} per {{critique}}"
"""

TOOL_WORKFLOW = """
description = "Compute, then explain"
[vars]
unit = "apples"

[[steps]]
name = "total"
tool = "calculator"
args = { expression = "{{input}}" }

[[steps]]
name = "explain"
prompt = "Explain why {{input}} = {{total}} {{unit}}"
"""


@pytest.fixture(scope="session")
def provider():
    with FakeProviderServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_script(request):
    if "provider" in request.fixturenames:
        request.getfixturevalue("provider").clear()


def start_daemon(home):
    proc = subprocess.Popen([CHATTHY, "serve", "--no-log-stderr"], env=home.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not home.socket.exists():
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited with {proc.returncode}: {(home.state_dir / 'daemon.log').read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("daemon did not create its socket in 30 s")
        time.sleep(0.02)
    return proc


def stop_daemon(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def thome(provider):
    home = make_home(provider)
    with open(home.config_dir / "config.toml", "a") as fh:
        fh.write(TOOLS_CONFIG.replace("{openai}", provider.openai_base_url))
    workflows = home.config_dir / "workflows"
    workflows.mkdir()
    (workflows / "loop.toml").write_text(LOOP_WORKFLOW.replace("{max}", "3"))
    (workflows / "loop2.toml").write_text(LOOP_WORKFLOW.replace("{max}", "2"))
    (workflows / "compute.toml").write_text(TOOL_WORKFLOW)
    proc = start_daemon(home)
    try:
        yield home
    finally:
        stop_daemon(proc)
        shutil.rmtree(home.root, ignore_errors=True)


def completions(provider) -> list:
    """The completion requests the fake got (model listings aside)."""
    return [r for r in provider.requests if r.method == "POST"]


def client_for(home):
    """A Python client of the test's daemon (for what the CLI cannot do: not answering, going away)."""
    from chatthy.client import Client
    from chatthy.paths import Paths

    return Client(Paths(home.config_dir, home.data_dir, home.state_dir, home.socket), autostart=False)
