"""Scripting conventions: --color/NO_COLOR, -q, --json on listings, data on stdout only."""

from __future__ import annotations

import os
import select
import subprocess

import click

from tests.conftest import CHATTHY

ESC = "\x1b["


def env_without_no_color(home, **extra):
    env = {k: v for k, v in home.env.items() if k != "NO_COLOR"}
    env.update(extra)
    return env


def run(env, *args):
    return subprocess.run([CHATTHY, *args], env=env, capture_output=True, text=True, timeout=60)


def test_color_always_never_auto(home):
    env = env_without_no_color(home)
    # An error line is the simplest coloured output that needs no daemon.
    assert ESC in run(env, "--no-autostart", "--color", "always", "chat", "list").stderr
    assert ESC in run({**env, "CHATTHY_COLOR": "always"}, "--no-autostart", "chat", "list").stderr
    assert ESC not in run(env, "--no-autostart", "--color", "never", "chat", "list").stderr
    assert ESC not in run(env, "--no-autostart", "chat", "list").stderr  # auto: stderr is a pipe
    # --color always beats NO_COLOR (a per-command choice overrides the environment's).
    assert ESC in run({**env, "NO_COLOR": "1"}, "--no-autostart", "--color=always", "chat", "list").stderr
    bad = run(env, "--color", "sometimes", "chat", "list")
    assert bad.returncode == 2 and "sometimes" in bad.stderr


def run_on_a_terminal(env, *args) -> tuple[int, str]:
    """Run with stderr on a pty (stdout a pipe): what a user at a terminal sees as messages."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([CHATTHY, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=slave)
        os.close(slave)
        proc.stdout.read()
        code = proc.wait(60)
        chunks = []
        while select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.stdout.close()
        return code, b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)


def test_quiet_silences_messages_not_errors(home):
    env = env_without_no_color(home)
    code, said = run_on_a_terminal(env, "daemon", "stop")
    assert code == 0 and "the daemon is not running" in said
    assert ESC in said  # a terminal, no NO_COLOR: the note is dimmed
    code, said = run_on_a_terminal(env, "-q", "daemon", "stop")
    assert (code, said) == (0, "")
    code, said = run_on_a_terminal({**env, "CHATTHY_QUIET": "1"}, "daemon", "stop")
    assert (code, said) == (0, "")
    code, said = run_on_a_terminal({**env, "NO_COLOR": "1"}, "daemon", "stop")
    assert "the daemon is not running" in said and ESC not in said
    code, said = run_on_a_terminal(env, "-q", "--no-autostart", "chat", "list")
    assert code == 3 and "error" in said  # errors are never silenced


def _commands():
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


LISTING = ("list", "ls", "show", "status", "info", "sources", "search")


def test_every_listing_and_show_command_has_json():
    missing = []
    for cmd, ctx in _commands():
        if ctx.info_name in LISTING or ctx.info_name == "doctor":
            options = {opt for p in cmd.params if isinstance(p, click.Option) for opt in p.opts}
            if "--json" not in options:
                missing.append(ctx.command_path)
    assert missing == [], f"listing/show commands without --json: {missing}"


def test_global_options_keep_working(home):
    out = run(home.env, "--profile", "p", "--no-autostart", "-q", "--color", "never", "daemon", "status", "--json")
    assert out.returncode == 3 and '"running": false' in out.stdout


def test_file_inputs_accept_dash_for_stdin():
    """A parameter that reads an existing file takes `-` for stdin (click.File does; click.Path must say so)."""
    refusing = []
    for cmd, ctx in _commands():
        for param in cmd.params:
            kind = param.type
            if isinstance(kind, click.Path) and kind.exists and not kind.allow_dash:
                refusing.append(f"{ctx.command_path} {param.name}")
    assert refusing == []


def test_a_usage_error_is_one_line_with_where_to_look(home):
    """Like every other error: one line on stderr, exit 2, nothing on stdout."""
    cases = {
        ("ask", "--bogus", "hi"): "chatthy: error: No such option '--bogus'. Did you mean",
        ("chat", "renam", "a", "b"): "chatthy: error: No such command 'renam'. Did you mean 'rename'?",
        ("chat", "rename", "a"): "chatthy: error: Missing argument 'NEW'. (see `chatthy chat rename --help`)",
        ("nosuch",): "chatthy: error: No such command 'nosuch'. (see `chatthy --help`)",
        ("--color", "sometimes", "chat", "list"): "chatthy: error: Invalid value for '--color'",
    }
    for args, start in cases.items():
        out = run(home.env, "--no-autostart", *args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stdout == "" and out.stderr.startswith(start), (args, out.stderr)
        assert out.stderr.count("\n") == 1 and "Usage:" not in out.stderr, (args, out.stderr)
