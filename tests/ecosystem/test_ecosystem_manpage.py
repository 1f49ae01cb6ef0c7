"""man/chatthy.1: current with the commands, complete, and clean under groff -ww and mandoc -T lint.

Regenerate with ``.venv/bin/python -m chatthy.cli.manpage > man/chatthy.1``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from chatthy.cli import manpage

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "man" / "chatthy.1"


@pytest.fixture(scope="module")
def generated() -> str:
    return manpage.render()


def test_committed_page_matches_the_commands(generated):
    assert PAGE.read_text(encoding="utf-8") == generated, (
        "man/chatthy.1 is out of date: run `.venv/bin/python -m chatthy.cli.manpage > man/chatthy.1`")


def _all_commands():
    from chatthy.cli.main import cli

    ctx = click.Context(cli, info_name="chatthy", **cli.context_settings)

    def walk(cmd, cmd_ctx):
        yield cmd, cmd_ctx
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(cmd_ctx):
                sub = cmd.get_command(cmd_ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, click.Context(sub, info_name=name, parent=cmd_ctx))

    return list(walk(cli, ctx))


def _plain(roff: str) -> str:
    """The page's text with fonts and escapes undone (enough to search it)."""
    text = re.sub(r"\\f[BIRP]", "", roff).replace(r"\-", "-").replace(r"\&", "").replace(r"\e", "\\")
    return text


def test_every_command_and_option_is_described(generated):
    text = _plain(generated)
    titles = set(re.findall(r'^\.SS "([^ ]+(?: [a-z][\w-]*)*)', text, re.M))
    for cmd, ctx in _all_commands()[1:]:
        assert ctx.command_path in titles, f"no section for {ctx.command_path}"
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert opt in text, f"{ctx.command_path} {opt} is not described"


def test_sections_files_environment_exit_codes(generated):
    from chatthy import errors

    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "FILES", "ENVIRONMENT",
                    "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^\.SH {section}$", generated, re.M), section
    text = _plain(generated)
    exit_section = text.split(".SH EXIT STATUS")[1].split(".SH")[0]
    for code in errors.EXIT_CODES:
        assert f"\n{code}\n" in exit_section, f"exit code {code} is not documented"
    env_section = text.split(".SH ENVIRONMENT")[1].split(".SH")[0]
    for cmd, ctx in _all_commands():
        for param in cmd.params:
            for var in [param.envvar] if isinstance(param.envvar, str) else (param.envvar or ()):
                assert var in env_section, f"{var} ({ctx.command_path}) is not in ENVIRONMENT"
    for var in ("CHATTHY_CONFIG_DIR", "CHATTHY_SOCKET", "NO_COLOR", "XDG_RUNTIME_DIR"):
        assert var in env_section
    assert "config.toml" in text and "authorized_keys" in text and "chatthy.db" in text


def test_groff_renders_it_without_warnings():
    # Not skipped when missing: the page must be checked somewhere (.ci/run installs groff-base).
    assert shutil.which("groff"), "groff is needed to check the man page: apt-get install groff-base"
    out = subprocess.run(["groff", "-ww", "-man", "-Tutf8", "-z", str(PAGE)], capture_output=True, text=True,
                         timeout=60)
    assert (out.returncode, out.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("mandoc") is None, reason="mandoc is not installed")
def test_mandoc_lint_is_clean():
    out = subprocess.run(["mandoc", "-T", "lint", str(PAGE)], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout + out.stderr) == (0, "")


def test_escaping():
    assert manpage.escape(".start") == r"\&.start"
    assert manpage.escape("a\\b -x") == r"a\eb \-x"
    assert manpage.escape("wait… → ok — ü") == r"wait... \(-> ok \(em \[u00FC]"
    assert manpage.wrap("a" * 19 + " .y", width=20) == "a" * 19 + "\n" + r"\&.y"  # no request by accident
    assert all(len(line) <= 20 for line in manpage.wrap("xy " * 60, width=20).splitlines())
    assert manpage.wrap(".nf\n" + "z " * 40 + "\n.fi", width=20).count("\n") == 2  # .nf lines stay whole
