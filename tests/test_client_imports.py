"""The client must start fast: it never imports the heavy daemon-side modules."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["openai", "anthropic", "sqlite_utils", "trafilatura", "pypdf", "onnxruntime",
         "tiktoken", "sqlean", "sqlite_vec", "anyio", "pydantic", "httpx", "httpx2", "numpy"]
SERVER_SIDE = ["chatthy.server", "chatthy.store", "chatthy.llm", "chatthy.context"]

PROBE = """
import json, sys
sys.argv = ["chatthy", *json.loads(sys.argv[1])]
from chatthy.cli.main import cli
from chatthy.cli.output import run_cli
code = run_cli(cli)
print("\\nMODULES=" + json.dumps(sorted(m for m in sys.modules)), flush=True)
"""


def loaded_modules(env, *args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], stdin=subprocess.DEVNULL,
                         env=env, capture_output=True, text=True, timeout=60)
    line = [l for l in out.stdout.splitlines() if l.startswith("MODULES=")]
    assert line, out.stderr
    return set(json.loads(line[-1][len("MODULES="):]))


def forbidden(modules: set[str]) -> list[str]:
    bad = [m for m in modules if m.split(".")[0] in HEAVY]
    bad += [m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE)]
    return sorted(bad)


def test_help_imports_nothing_heavy(home):
    assert forbidden(loaded_modules(home.env, "--help")) == []


def test_commands_talking_to_the_daemon_import_nothing_heavy(home, fake, daemon):
    home.run("ask", "-c", "x", "hi", check=True)
    for args in (["chat", "list"], ["chat", "show", "x"], ["ask", "-c", "x", "again"], ["daemon", "status"]):
        modules = loaded_modules(home.env, *args)
        assert "chatthy.client" in modules  # it really talked to the daemon
        assert forbidden(modules) == [], args


def test_client_side_source_never_imports_the_server_side():
    """A static check too: no client module names a server-side package."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "chatthy"
    client_side = [root / "client.py", root / "autostart.py", *(root / "cli").glob("*.py"), *(root / "repl").glob("*.py")]
    pattern = re.compile(r"^\s*(from|import)\s+chatthy\.(server|store|llm|context)\b", re.M)
    offenders = []
    for path in client_side:
        text = path.read_text()
        if path.name == "serve.py":
            continue  # `chatthy serve` runs the daemon itself, by design
        if pattern.search(text):
            offenders.append(path.name)
    assert offenders == []
