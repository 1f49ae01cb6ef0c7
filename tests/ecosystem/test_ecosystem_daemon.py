"""`chatthy daemon status|start|stop|restart|logs` against a real daemon."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import threading
import time

from chatthy.cli.log_follow import follow_log, tail_lines
from tests.fakes.replies import Stall


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped counts: this container's init may not reap)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_status_shows_open_chats_and_replies_in_flight(shared_home, shared_fake, shared_daemon):
    home, fake = shared_home, shared_fake
    fake.script(Stall(after_chunks=1, seconds=3))
    asker = home.popen("ask", "-c", "slow one", "take your time", stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    try:
        def replying():
            status = json.loads(home.run("daemon", "status", "--json", check=True).stdout)
            return status if status["generations"] else None

        status = wait_for(replying)
        assert status["running"] is True and status["pid"] == home.daemon_pid()
        assert status["socket"] == str(home.socket) and status["socket_activated"] is False
        assert status["version"] == status["client_version"]
        assert status["open_chats"] == [{"chat": "slow one", "watchers": 0, "replying": True}]
        assert [g["chat"] for g in status["generations"]] == ["slow one"]
        assert status["service"]["installed"] is False

        text = home.run("daemon", "status", check=True).stdout
        assert f"running: pid {status['pid']}" in text
        assert "open chats: 1\n  slow one (0 watching, replying)" in text
        assert "replies in flight: 1\n  slow one (fake/fake-model" in text
        assert "service:  not installed" in text
    finally:
        asker.wait(30)
    done = json.loads(home.run("daemon", "status", "--json", check=True).stdout)
    assert done["generations"] == [] and done["open_chats"] == []


def test_stop_start_restart(home, fake):
    out = home.run("daemon", "status")
    assert out.returncode == 3 and "not running" in out.stdout and "service:" in out.stdout
    assert home.run("daemon", "stop").returncode == 0  # nothing to stop is not an error

    home.run("daemon", "start", check=True)
    first = home.daemon_pid()
    assert first and json.loads(home.run("daemon", "status", "--json", check=True).stdout)["pid"] == first
    home.run("daemon", "start", check=True)  # already running: a no-op
    assert home.daemon_pid() == first

    home.run("daemon", "restart", check=True)
    second = json.loads(home.run("daemon", "status", "--json", check=True).stdout)["pid"]
    assert second != first
    wait_for(lambda: gone(first))  # the lock is free at once; the process exits right after

    home.run("daemon", "stop", check=True)
    assert home.run("daemon", "status").returncode == 3


def test_logs_shows_the_tail(shared_home, shared_daemon):
    home = shared_home
    out = home.run("daemon", "logs", "-n", "3", check=True)  # stdout is not a terminal: no following
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines == (home.state_dir / "daemon.log").read_text().splitlines()[-3:]
    everything = home.run("daemon", "logs", "-n", "100000", check=True).stdout
    assert everything == (home.state_dir / "daemon.log").read_text()

    follower = home.popen("daemon", "logs", "-f", "-n", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Append until the follower shows a line: it may not have opened the log yet.
        deadline = time.monotonic() + 15
        while not select.select([follower.stdout], [], [], 0.3)[0]:
            assert time.monotonic() < deadline, "daemon logs -f printed nothing"
            with open(home.state_dir / "daemon.log", "a") as fh:
                fh.write("a line written while following\n")
        assert follower.stdout.readline() == b"a line written while following\n"
    finally:
        follower.terminate()
        follower.wait(10)
        follower.stdout.close()
        follower.stderr.close()


def test_logs_of_a_state_dir_without_a_daemon(home):
    out = home.run("daemon", "logs")
    assert (out.returncode, out.stdout) == (0, "")


def test_tail_lines(tmp_path):
    log = tmp_path / "daemon.log"
    assert tail_lines(log, 5) == ("", 0)
    log.write_text("".join(f"line {i}\n" for i in range(50_000)))
    text, offset = tail_lines(log, 3)
    assert text == "line 49997\nline 49998\nline 49999\n" and offset == log.stat().st_size
    log.write_text("one\ntwo")  # no final newline
    assert tail_lines(log, 5)[0] == "one\ntwo\n"


def test_follow_survives_rotation(tmp_path):
    log = tmp_path / "daemon.log"
    log.write_text("old line\n")
    _, offset = tail_lines(log, 10)
    out = io.StringIO()
    follower = threading.Thread(target=follow_log, args=(log, offset), kwargs={"out": out, "stop_after": 1.5})
    follower.start()
    try:
        time.sleep(0.1)
        with open(log, "a") as fh:
            fh.write("appended é\n")
        wait_for(lambda: "appended" in out.getvalue(), timeout=1.0)
        log.rename(tmp_path / "daemon.log.1")  # what RotatingFileHandler does
        log.write_text("after rotation\n")
        wait_for(lambda: "after rotation" in out.getvalue(), timeout=1.2)
    finally:
        follower.join()
    assert out.getvalue() == "appended é\nafter rotation\n"
