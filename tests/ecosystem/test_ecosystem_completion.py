"""Shell completion: the committed scripts are current, and real bash, zsh and fish use them.

Regenerate the scripts with ``.venv/bin/python -m chatthy.cli.completion --write completions/``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from chatthy.cli import completion
from tests.conftest import CHATTHY, make_home

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
VENV_BIN = str(Path(CHATTHY).parent)


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_committed_scripts_match_the_commands(shell, shared_home):
    committed = (COMPLETIONS / completion.SCRIPT_FILES[shell]).read_text(encoding="utf-8")
    printed = shared_home.run("completion", shell, check=True).stdout
    assert printed == committed, (
        f"completions/{completion.SCRIPT_FILES[shell]} is out of date: "
        "run `.venv/bin/python -m chatthy.cli.completion --write completions/`")


def test_every_command_is_in_the_tree():
    from chatthy.cli.main import COMMANDS

    tree = completion.command_tree()
    assert [s.path[-1] for s in tree.subcommands] == sorted(COMMANDS)
    keys = {node.key for node in tree.walk()}
    assert {"chat show", "daemon install", "daemon logs", "doctor"} <= keys
    chat_show = next(n for n in tree.walk() if n.key == "chat show")
    assert chat_show.args == "names"  # by convention: NAME of the chat group
    root_opts = {n: o for o in tree.options for n in o.names}
    assert root_opts["--color"].values == ("auto", "always", "never") and root_opts["--profile"].values == "names"


# -- bash -----------------------------------------------------------------------------------------

BASH_HARNESS = r"""
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_chatthy
printf '%s\n' "${COMPREPLY[@]}"
"""


def bash_complete(env, *words: str) -> list[str]:
    out = subprocess.run(["bash", "--norc", "-c", BASH_HARNESS, "bash", str(COMPLETIONS / "chatthy.bash"),
                          CHATTHY, *words], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return [line for line in out.stdout.splitlines() if line]


def test_bash_completes_commands_options_and_values(shared_home):
    env = shared_home.env
    assert "chat" in bash_complete(env, "") and "daemon" in bash_complete(env, "")
    assert bash_complete(env, "da") == ["daemon"]
    assert sorted(bash_complete(env, "daemon", "st")) == ["start", "status", "stop"]
    assert bash_complete(env, "--color", "") == ["auto", "always", "never"]
    assert bash_complete(env, "--color", "=", "al") == ["always"]  # bash splits --color=al
    assert bash_complete(env, "--profile", "p1", "chat", "li") == ["list"]  # the option's value is skipped
    assert sorted(bash_complete(env, "daemon", "logs", "--")) == ["--follow", "--help", "--lines", "--no-follow"]
    assert bash_complete(env, "daemon", "install", "--manager", "l") == ["launchd"]
    assert bash_complete(env, "completion", "f") == ["fish"]


def test_bash_asks_the_daemon_for_names(shared_home, shared_daemon):
    for name in ("alpha", "alpine lake", "beta"):
        shared_home.run("ask", "-c", name, "hi", check=True)
    env = shared_home.env
    assert sorted(bash_complete(env, "chat", "show", "al")) == ["alpha", "alpine\\ lake"]
    assert sorted(bash_complete(env, "ask", "-c", "")) == ["alpha", "alpine\\ lake", "beta"]
    assert bash_complete(env, "ask", "--chat", "=", "be") == ["beta"]
    assert "fake-model" in bash_complete(env, "ask", "-m", "fake")
    assert "fakeant" in bash_complete(env, "ask", "-p", "")


# -- zsh ---------------------------------------------------------------------------------------------

# compinit's functions replaced by ones that print what they were given; the
# script under test is the real one, run by a real zsh.
ZSH_HARNESS = r"""
compdef() { : }
compset() { : }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_describe() { local entry; for entry in "${(@P)4}"; do print -r -- "${entry%%:*}"; done }
_files() { print -r -- "<files $*>" }
source "$1"; shift
words=("$@"); CURRENT=${#words}
_chatthy
"""


def zsh_complete(env, *words: str) -> list[str]:
    out = subprocess.run(["zsh", "-f", "-c", ZSH_HARNESS, "zsh", str(COMPLETIONS / "_chatthy"), CHATTHY, *words],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode in (0, 1) and out.stderr == "", out.stderr
    prefix = words[-1]
    # The real compadd/_describe keep only what starts with the word typed so far.
    return [w for w in out.stdout.splitlines() if w.startswith(prefix) or w.startswith("<files")]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_script(shared_home, shared_daemon):
    env = shared_home.env
    assert zsh_complete(env, "da") == ["daemon"]
    assert sorted(zsh_complete(env, "daemon", "st")) == ["start", "status", "stop"]
    assert zsh_complete(env, "--color", "") == ["auto", "always", "never"]
    assert "--json" in zsh_complete(env, "chat", "show", "--")
    shared_home.run("ask", "-c", "zeta", "hi", check=True)
    assert zsh_complete(env, "chat", "show", "ze") == ["zeta"]
    assert zsh_complete(env, "--profile", "x", "ask", "-c", "ze") == []  # profile x has no chats


# -- fish ------------------------------------------------------------------------------------------


def fish_complete(env, line: str) -> list[str]:
    script = f"source {COMPLETIONS / 'chatthy.fish'}; complete -C{line!r}"
    env = {**env, "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"}
    out = subprocess.run(["fish", "--no-config", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return [line.split("\t")[0] for line in out.stdout.splitlines()]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_script(shared_home, shared_daemon):
    env = shared_home.env
    assert fish_complete(env, "chatthy da") == ["daemon"]
    assert sorted(fish_complete(env, "chatthy daemon st")) == ["start", "status", "stop"]
    assert fish_complete(env, "chatthy --color ") == ["always", "auto", "never"]
    assert "--json" in fish_complete(env, "chatthy chat list --")
    shared_home.run("ask", "-c", "fjord", "hi", check=True)
    assert fish_complete(env, "chatthy chat show fj") == ["fjord"]


# -- the dynamic part: fast, silent, never starts a daemon -------------------------------------------


def ask_names(env, words: str, cword: int) -> subprocess.CompletedProcess:
    env = {**env, "_CHATTHY_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    return subprocess.run([CHATTHY], env=env, capture_output=True, text=True, timeout=30)


def test_without_a_daemon_names_are_empty_quick_and_quiet():
    home = make_home(None)
    try:
        start = time.monotonic()
        out = ask_names(home.env, "chatthy chat show ", 3)
        elapsed = time.monotonic() - start
        assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "", "")
        assert elapsed < 2.0
        assert not home.state_dir.exists() and not home.config_dir.exists()  # no autostart, no files
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


def test_a_daemon_that_does_not_answer_costs_about_a_second():
    home = make_home(None)
    home.root.joinpath("state").mkdir()
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(str(home.socket))
    hung.listen(8)  # connections queue, nobody ever answers
    try:
        start = time.monotonic()
        out = ask_names(home.env, "chatthy chat show ", 3)
        elapsed = time.monotonic() - start
        assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "", "")
        assert completion.DAEMON_BUDGET <= elapsed < completion.DAEMON_BUDGET + 2.0
    finally:
        hung.close()
        shutil.rmtree(home.root, ignore_errors=True)


def test_completion_defaults_to_the_login_shell(shared_home):
    env = {**shared_home.env, "SHELL": "/usr/bin/fish"}
    printed = subprocess.run([CHATTHY, "completion"], env=env, capture_output=True, text=True, timeout=30)
    assert printed.stdout.startswith("# fish completion for chatthy")
    env["SHELL"] = "/bin/tcsh"
    refused = subprocess.run([CHATTHY, "completion"], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "give the shell" in refused.stderr
