"""The fast path (chatthy/cli/fastpath.py) must mean exactly what Click means.

Every command line the fast path accepts is parsed by Click too, and the two
readings must agree value for value (Hypothesis draws the command lines and
the environment); what the fast path prints for ``--help`` must be Click's
text; and the real ``chatthy`` command must behave the same with the fast
path on and off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatthy.cli import output
from chatthy.cli.chat_listing import local_time
from chatthy.cli.fastpath import ENV, parse
from chatthy.cli.main import TOP_HELP, cli, render_top_help

WORDS = st.sampled_from(["hello", "two words", "-", "--", "x=1", "ümlaut", "", "-5", "--json", "-qn", "-cfoo",
                         "--chat=foo", "--model=", "-c=foo", "-m=x", "--profile", "list", "ask", "chat", "-h", "--help", "-f",
                         "--rag", "-q", "-n", "-C", "-m", "gpt", "--no-stream", "--edit-last", "-P", "coder",
                         "--persona", "--persona=x", "--json", "-y", "--verbose", "--color", "always", "never",
                         "auto", "bogus", "--color=never", "--no-autostart", "--quiet", "-s", "be brief", "-c",
                         "-p", "fake", "--provider=fake", "--system", "-V", "--version"])
ENV_VALUES = st.sampled_from([None, "", "1", "0", "true", "FALSE", " yes ", "off", "maybe", "always", "never",
                              "auto", "work", "Always"])


def argv_shapes():
    prefix = st.lists(st.sampled_from(["--profile", "work", "--profile=me", "-q", "--quiet", "--no-autostart",
                                       "--color", "never", "--color=always", "--color=bogus"]), max_size=4)
    command = st.sampled_from([["ask"], ["chat", "list"], ["chat"], [], ["chat", "show"], ["models"]])
    return st.builds(lambda p, c, rest: p + c + rest, prefix, command, st.lists(WORDS, max_size=7))


VALUES = st.sampled_from(["x", "two words", "-", "--", "-5", "--json", "-q", "", "ümlaut", "=", "a=b"])
ASK_FLAGS = ["-C", "--continue", "-n", "--new", "--no-stream", "-q", "--quiet", "--edit-last", "-y", "--yes",
             "--verbose", "-r", "--raw"]
ASK_VALUED = ["-c", "--chat", "-p", "--provider", "-m", "--model", "-s", "--system", "-P", "--persona"]
PLAIN_WORDS = st.sampled_from(["hello", "two words", "-", "x=1", "ümlaut", "", "list", "ask", "chat"])


def valid_argv():
    """Command lines the fast path must take: its whole grammar, values of every shape."""
    glob = st.lists(st.one_of(
        st.sampled_from([["-q"], ["--quiet"], ["--no-autostart"]]),
        st.builds(lambda v: ["--profile", v], VALUES), st.builds(lambda v: [f"--profile={v}"], VALUES),
        st.builds(lambda m: ["--color", m], st.sampled_from(["auto", "always", "never"])),
        st.builds(lambda m: [f"--color={m}"], st.sampled_from(["auto", "always", "never"]))), max_size=4)
    ask_item = st.one_of(
        st.builds(lambda w: [w], PLAIN_WORDS), st.builds(lambda f: [f], st.sampled_from(ASK_FLAGS)),
        st.builds(lambda o, v: [o, v], st.sampled_from(ASK_VALUED), VALUES),
        st.builds(lambda o, v: [f"{o}={v}"], st.sampled_from([o for o in ASK_VALUED if o.startswith("--")]), VALUES))
    tail = st.lists(VALUES, max_size=3)
    ask = st.builds(lambda items, dash, t: ["ask", *sum(items, [])] + (["--", *t] if dash else []),
                    st.lists(ask_item, max_size=6), st.booleans(), tail)
    listing = st.builds(lambda items: ["chat", "list", *sum(items, [])], st.lists(st.one_of(
        st.just(["--json"]), st.builds(lambda v: ["--persona", v], VALUES),
        st.builds(lambda v: [f"--persona={v}"], VALUES)), max_size=3))
    return st.builds(lambda g, c: sum(g, []) + c, glob, st.one_of(ask, listing))


def nearly_valid_argv():
    """A valid command line with one odd token put somewhere: where the two parsers could part."""
    return st.builds(lambda argv, odd, at: argv[:at % (len(argv) + 1)] + [odd] + argv[at % (len(argv) + 1):],
                     valid_argv(), WORDS, st.integers(0, 30))


def click_reading(argv: list[str]) -> tuple[str, dict, dict]:
    """Click's own parse of ``argv``: (command, global values, command values)."""
    output.configure(color="auto", quiet=False)
    ctx = cli.make_context("chatthy", list(argv))
    globals_ = {"profile": ctx.params["profile"], "no_autostart": ctx.params["no_autostart"],
                "color": output._color_mode, "quiet": output._quiet}
    name, cmd, args = cli.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
    sub = cmd.make_context(name, args, parent=ctx)
    if isinstance(cmd, click.Group):
        name2, cmd2, args2 = cmd.resolve_command(sub, [*sub._protected_args, *sub.args])
        sub = cmd2.make_context(name2, args2, parent=sub)
        name = f"{name} {name2}"
    return name, globals_, dict(sub.params)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=st.one_of(valid_argv(), argv_shapes(), nearly_valid_argv()),
       env=st.fixed_dictionaries({var: ENV_VALUES for var in ENV.values()}))
def test_every_command_line_the_fast_path_takes_means_the_same_to_click(argv, env):
    environ = {k: v for k, v in env.items() if v is not None}
    parsed = parse(argv, environ)
    if parsed is None:
        return  # Click's, entirely
    compare_with_click(argv, environ, parsed)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=valid_argv())
def test_its_whole_grammar_takes_the_fast_path_and_means_the_same(argv):
    parsed = parse(argv, {})
    assert parsed is not None, argv
    compare_with_click(argv, {}, parsed)


def compare_with_click(argv, environ, parsed):
    if parsed.command in ("help", "version"):  # Click prints them and exits 0 while parsing
        with pytest.raises(click.exceptions.Exit) as exit_:
            click_reading(argv)
        assert exit_.value.exit_code == 0
        return
    saved = {var: os.environ.pop(var, None) for var in ENV.values()}
    os.environ.update(environ)
    try:
        try:
            name, globals_, params = click_reading(argv)
        except click.ClickException as exc:
            pytest.fail(f"fast path took {argv} {environ} but Click refuses it: {exc.format_message()}")
    finally:
        for var, value in saved.items():
            os.environ.pop(var, None)
            if value is not None:
                os.environ[var] = value
        output.configure(color="auto", quiet=False)
    assert parsed.command == name
    assert parsed.globals == globals_
    for key, value in parsed.options.items():
        assert params[key] == value, (key, argv)
    untouched = {k: v for k, v in params.items() if k not in parsed.options}
    assert all(v in (None, False, ()) for v in untouched.values()), untouched


@pytest.mark.parametrize("argv, command", [
    (["ask", "hello", "world"], "ask"),
    (["--profile", "work", "-q", "ask", "-c", "notes", "--", "-5 degrees"], "ask"),
    (["ask", "-m", "gpt-x", "hi", "--no-stream", "-q"], "ask"),
    (["chat", "list"], "chat list"),
    (["--color=never", "chat", "list", "--json", "--persona", "coder"], "chat list"),
    (["--help"], "help"),
    (["-V"], "version"),
])
def test_the_common_forms_take_the_fast_path(argv, command):
    parsed = parse(argv, {})
    assert parsed is not None and parsed.command == command


@pytest.mark.parametrize("argv", [
    [], ["chat"], ["chat", "show"], ["ask", "-qn", "hi"], ["ask", "-cfoo", "hi"], ["ask", "-f", "x.txt"],
    ["ask", "--rag", "q"], ["ask", "-h"], ["chat", "list", "extra"], ["--color", "bogus", "chat", "list"],
    ["--profile"], ["ask", "-m"], ["repl"], ["-h", "ask"],
])
def test_everything_else_goes_to_click(argv):
    assert parse(argv, {}) is None


def test_the_environment_can_turn_it_off_and_completion_never_uses_it():
    assert parse(["chat", "list"], {"CHATTHY_NO_FASTPATH": "1"}) is None
    assert parse(["chat", "list"], {"_CHATTHY_COMPLETE": "bash_complete"}) is None
    assert parse(["chat", "list"], {"CHATTHY_QUIET": "perhaps"}) is None  # Click explains that one


def test_the_stored_help_is_clicks_rendering():
    with open(TOP_HELP, encoding="utf-8") as fh:
        assert fh.read() == render_top_help(), "regenerate: python -m chatthy.cli.main --write-help"


def _chatthy(env, *args, fast=True, columns=None):
    env = {**env, "COLUMNS": str(columns)} if columns else {k: v for k, v in env.items() if k != "COLUMNS"}
    if not fast:
        env["CHATTHY_NO_FASTPATH"] = "1"
    chatthy = os.path.join(os.path.dirname(sys.executable), "chatthy")
    return subprocess.run([chatthy, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60)


@pytest.mark.parametrize("columns", [None, 80, 132, 60])
def test_help_is_the_same_with_and_without_the_fast_path(home, columns):
    fast, slow = _chatthy(home.env, "--help", columns=columns), _chatthy(home.env, "--help", fast=False,
                                                                          columns=columns)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr) == \
        (0, fast.stdout, "")
    assert "Commands:" in fast.stdout
    with open(TOP_HELP, encoding="utf-8") as fh:
        assert (fast.stdout == fh.read()) == (columns != 60)  # a narrow terminal gets Click's narrower text


def test_commands_behave_the_same_with_and_without_the_fast_path(home, fake, daemon):
    cases = [
        ["ask", "-c", "notes", "remember", "the", "cat"],
        ["ask", "-c", "notes", "-q", "--no-stream", "and", "the", "dog"],
        ["chat", "list"],
        ["chat", "list", "--json"],
        ["--color", "always", "chat", "list"],
        ["--profile", "nosuch", "chat", "list"],
        ["ask", "-c", "notes", "--continue", "both?"],
        ["ask", "--edit-last", "no chat given"],
        ["ask", "-c", "bad/name", "hi"],
        ["--no-autostart", "ask", "-m", "nosuch-model", "-c", "notes", "x"],
    ]
    for args in cases:
        fast, slow = _chatthy(home.env, *args), _chatthy(home.env, *args, fast=False)
        assert fast.returncode == slow.returncode, (args, fast.stderr, slow.stderr)
        assert fast.stderr == slow.stderr, args
        if args[:1] != ["ask"]:  # each ask adds its own reply; the listings must match exactly
            assert fast.stdout == slow.stdout, args
        else:
            assert fast.stdout.startswith("You said:") == slow.stdout.startswith("You said:"), args
    listing = _chatthy(home.env, "chat", "list", "--json")
    assert '"notes"' in listing.stdout
    assert _chatthy(home.env, "--profile", "nosuch", "chat", "list").returncode == 4


def test_the_fast_path_never_imports_click_or_the_slow_stdlib(home, fake, daemon):
    """What makes it fast: run the real command with -X importtime and look."""
    home.run("ask", "-c", "x", "hi", check=True)
    chatthy = os.path.join(os.path.dirname(sys.executable), "chatthy")
    for args in (["chat", "list"], ["ask", "-c", "x", "again"], ["--help"]):
        out = subprocess.run([sys.executable, "-X", "importtime", chatthy, *args], env=home.env,
                             capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert out.returncode == 0, out.stderr
        modules = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
        assert "chatthy.cli.fastpath" in modules
        # re (with enum) and json cost ~5 ms together; chatthy.wire.json_codec stands in for json.
        slow = {"click", "pathlib", "dataclasses", "typing", "datetime", "socket", "inspect", "hashlib", "secrets",
                "re", "enum", "json", "collections"}
        assert modules & slow == set(), (args, modules & slow)


@settings(max_examples=3000, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)))
def test_listing_times_read_by_hand_match_datetime(moment):
    iso = moment.replace(tzinfo=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    expected = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time(iso) == expected


def test_listing_times_in_other_forms_still_read():
    assert local_time(None) == "-"
    assert local_time("not a time") == "not a time"
    offset = (datetime(2026, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=2)))).isoformat()
    assert local_time(offset) == datetime.fromisoformat(offset).astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time("2026-13-40T99:99:99.000Z") == "2026-13-40T99:99:99.000Z"
