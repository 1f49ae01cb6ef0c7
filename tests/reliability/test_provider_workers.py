"""Provider workers, from the outside: the processes provider streams run in.

A worker killed in the middle of a reply ends that reply with an error that
says so, the text shown so far is kept, the daemon carries on and the next ask
gets a new worker. A daemon killed with -9 takes its worker with it; a daemon
stopped stops it cleanly. ``provider_workers = 0`` streams inside the daemon,
and both ways give the same replies and the same errors.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess

import pytest

from tests.fakes.replies import HttpError, Text, ToolCalls
from tests.reliability.reliability_support import DaemonProcess, db_query, log_text, new_home, remove_home, wait_for

CHUNKS = [f"w{i:03d} " for i in range(80)]


def live_workers(home) -> list[int]:
    result = home.run("daemon", "status", "--json", check=True)
    return [w["pid"] for w in json.loads(result.stdout)["provider_workers"] if w["alive"]]


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@contextlib.contextmanager
def running(fake, extra_config: str = ""):
    """A home and its daemon (never autostarted behind the test's back), always removed."""
    home = new_home(fake, extra_config)
    home.env["CHATTHY_NO_AUTOSTART"] = "1"
    daemon = DaemonProcess(home).start()
    try:
        yield home, daemon
    finally:
        daemon.stop()
        remove_home(home)


@pytest.fixture
def worker_home(fake):
    with running(fake) as pair:
        yield pair


def kill_the_worker(home) -> int:
    """kill -9 the daemon's one worker, once it runs; its pid once it is gone."""
    (pid,) = wait_for(lambda: live_workers(home), what="a provider worker")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), what=f"worker {pid} to die")
    return pid


def test_a_worker_killed_mid_reply_ends_that_reply_and_the_next_ask_gets_a_new_worker(fake, worker_home):
    home, daemon = worker_home
    fake.script(Text(CHUNKS, delay=0.05))
    client = home.popen("ask", "-c", "k", "question", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert client.stdout.read(4) == b"w000", client.stderr.read().decode()
    (pid,) = live_workers(home)

    os.kill(pid, signal.SIGKILL)
    shown = client.stdout.read()
    _, err = client.communicate(timeout=30)

    assert client.returncode == 5, err
    assert f"the provider worker (pid {pid}) was killed by SIGKILL during the request" in err.decode()
    assert len(err.decode().strip().splitlines()) == 1
    # The reply keeps what had been streamed, and says why it ended.
    content, status, error = db_query(
        home, "SELECT content, status, error FROM messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1")[0]
    assert status == "error" and "killed by SIGKILL" in error
    assert content.startswith("w000 ") and ("w000" + shown.decode()).removesuffix("\n") == content
    assert daemon.alive()

    again = home.run("ask", "-c", "k", "once more")
    assert again.returncode == 0 and again.stdout == "You said: once more\n", again.stderr
    assert pid not in live_workers(home)
    assert f"provider worker {pid} was killed by SIGKILL" in log_text(home)


def test_a_dead_idle_worker_is_replaced_on_the_next_ask(worker_home):
    home, _ = worker_home
    kill_the_worker(home)
    result = home.run("ask", "hello")
    assert result.returncode == 0 and result.stdout == "You said: hello\n", result.stderr


def test_a_daemon_killed_with_9_takes_its_worker_with_it(worker_home):
    home, daemon = worker_home
    (pid,) = wait_for(lambda: live_workers(home), what="a provider worker")
    daemon.kill9()
    # Its stdin closes with the daemon: it ends on its own, no orphan left behind.
    wait_for(lambda: gone(pid), 15, what=f"worker {pid} to exit after its daemon died")


def test_a_stopped_daemon_stops_its_worker_cleanly_and_the_worker_logs_into_the_daemon_log(worker_home):
    home, daemon = worker_home
    (pid,) = wait_for(lambda: live_workers(home), what="a provider worker")
    wait_for(lambda: f"[worker {pid}] ready:" in log_text(home), what="the worker's ready line in the daemon log")
    daemon.stop()
    assert gone(pid)
    assert f"provider worker {pid} exited with status 0" in log_text(home)


@pytest.mark.parametrize("workers", [0, 1])
def test_replies_tools_and_errors_are_the_same_with_or_without_workers(fake, workers):
    with running(fake, f"\n[daemon]\nprovider_workers = {workers}\n") as (home, _):
        if workers:
            wait_for(lambda: live_workers(home), what="a provider worker")
        else:
            assert live_workers(home) == []
        status = home.run("daemon", "status", check=True).stdout
        assert ("streamed in the daemon" in status) == (workers == 0)
        assert ("providers: worker pid " in status) == (workers == 1)

        plain = home.run("ask", "stream me")
        assert plain.returncode == 0 and plain.stdout == "You said: stream me\n"

        fake.script(ToolCalls([("c1", "calculator", {"expression": "6*7"})]), Text(["It is ", "42."]))
        tools = home.run("ask", "-T", "calculator", "what is 6*7?")
        assert tools.returncode == 0 and tools.stdout == "It is 42.\n", tools.stderr
        sent = fake.requests[-1].json["messages"][-1]
        assert sent["role"] == "tool" and sent["tool_call_id"] == "c1" and sent["content"] == "42"

        fake.script(HttpError(401, message="the key is wrong"))
        refused = home.run("ask", "who am I")
        assert refused.returncode == 5, refused.stderr
        assert refused.stderr.startswith("chatthy: error: fake (fake-model): ")
        assert "401" in refused.stderr and "the key is wrong" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_doctor_restarts_a_dead_worker_and_says_one_was_replaced(worker_home):
    home, _ = worker_home
    pid = kill_the_worker(home)
    checks = {c["check"]: c for c in json.loads(home.run("doctor", "--json", "--offline").stdout)["checks"]}
    workers = checks["provider workers"]
    assert workers["status"] == "warn", workers
    assert "1 running" in workers["message"] and "1 replaced after stopping" in workers["message"]
    assert "daemon logs" in workers["fix"]
    (new,) = live_workers(home)
    assert new != pid


def loaded_libraries(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as fh:
        return {line.split()[-1].rsplit("/", 1)[-1] for line in fh if "/" in line}


def test_with_workers_the_daemon_never_loads_the_http_stack_the_worker_does(worker_home):
    # aiohttp's C parser is the provider SDKs' HTTP stack (chatthy/llm/base.py):
    # after a reply, only the process that streamed it has it mapped.
    home, daemon = worker_home
    assert home.run("ask", "hello").returncode == 0
    (worker,) = live_workers(home)
    parser = lambda libs: any(name.startswith("_http_parser") for name in libs)  # noqa: E731
    assert parser(loaded_libraries(worker))
    assert not parser(loaded_libraries(daemon.pid))
