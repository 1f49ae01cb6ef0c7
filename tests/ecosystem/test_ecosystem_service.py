"""`chatthy daemon install|uninstall`: the unit/plist text, and where and how it is installed."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chatthy.cli import service_files as sf
from tests.conftest import CHATTHY

VENV_BIN = str(Path(sys.executable).parent)


def odd_spec(tmp_path: Path) -> sf.ServiceSpec:
    return sf.ServiceSpec(
        argv=(str(tmp_path / "odd %dir" / "py$thon"), "-m", "chatthy.server"),
        socket=tmp_path / "run dir" / "c.sock",
        config_dir=tmp_path / "conf%d",
        state_dir=tmp_path / "state",
        env={"CHATTHY_SOCKET": str(tmp_path / "run dir" / "c.sock"), "CHATTHY_DATA_DIR": "/d"},
    )


def settings(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in text.splitlines() if "=" in line and not line.startswith("#")]


def test_systemd_service_text(tmp_path):
    text = sf.systemd_service(odd_spec(tmp_path))
    pairs = settings(text)
    # systemd quoting: % doubled everywhere, the odd program path in quotes, its $ left alone.
    assert ("ExecStart", f'"{tmp_path}/odd %%dir/py$thon" -m chatthy.server') in pairs
    assert ("Environment", f'"CHATTHY_SOCKET={tmp_path}/run dir/c.sock"') in pairs
    assert ("Environment", "CHATTHY_DATA_DIR=/d") in pairs
    assert ("EnvironmentFile", f"-{tmp_path}/conf%%d/service.env") in pairs
    assert ("Restart", "on-failure") in pairs and ("RestartPreventExitStatus", "8 10") in pairs
    assert ("WantedBy", "default.target") in pairs
    assert not any(k in ("Requires", "Also") for k, _ in pairs)
    assert "[Unit]" in text and "[Service]" in text and "[Install]" in text


def test_systemd_socket_activated_units(tmp_path):
    spec = odd_spec(tmp_path)
    service = settings(sf.systemd_service(spec, socket_activated=True))
    assert ("Requires", "chatthy.socket") in service and ("After", "chatthy.socket") in service
    assert ("Also", "chatthy.socket") in service and ("WantedBy", "default.target") not in service
    socket_unit = settings(sf.systemd_socket(spec))
    assert ("ListenStream", f"{tmp_path}/run dir/c.sock") in socket_unit
    assert ("SocketMode", "0600") in socket_unit and ("DirectoryMode", "0700") in socket_unit
    assert ("WantedBy", "sockets.target") in socket_unit


def test_an_argument_dollar_is_escaped():
    assert sf.systemd_quote("a$b", argument=True) == '"a$$b"'
    assert sf.systemd_quote("a$b") == '"a$b"'
    assert sf.systemd_quote('say "hi" \\ 100%', argument=True) == '"say \\"hi\\" \\\\ 100%%"'


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_accepts_the_units(tmp_path):
    program = tmp_path / "odd %dir" / "py$thon"
    program.parent.mkdir()
    program.symlink_to(sys.executable)
    spec = odd_spec(tmp_path)
    (tmp_path / "chatthy.service").write_text(sf.systemd_service(spec, socket_activated=True))
    (tmp_path / "chatthy.socket").write_text(sf.systemd_socket(spec))
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", "chatthy.socket", "chatthy.service"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_launchd_plist(tmp_path):
    spec = odd_spec(tmp_path)
    agent = plistlib.loads(sf.launchd_plist(spec).encode())
    assert agent["Label"] == "io.github.chatthy"
    assert agent["ProgramArguments"] == list(spec.argv)  # a plist needs no shell quoting
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["EnvironmentVariables"] == spec.env
    assert agent["StandardErrorPath"] == str(tmp_path / "state" / "daemon.stderr")


def test_the_spec_points_at_this_python_and_carries_only_directories(tmp_path):
    from chatthy.paths import Paths

    paths = Paths(tmp_path / "c", tmp_path / "d", tmp_path / "s", tmp_path / "s.sock")
    spec = sf.spec_for(paths, {"CHATTHY_CONFIG_DIR": "/x", "OPENAI_API_KEY": "sk-secret", "XDG_STATE_HOME": "/st",
                               "CHATTHY_PROFILE": "work", "HOME": "/h"})
    assert spec.argv == (sys.executable, "-m", "chatthy.server")
    assert spec.env == {"CHATTHY_CONFIG_DIR": "/x", "XDG_STATE_HOME": "/st"}


# -- the command, in a temporary HOME -----------------------------------------------------------


@pytest.fixture
def svc_home(tmp_path):
    """Env for `chatthy daemon install` with its own HOME and XDG_CONFIG_HOME, and a PATH
    holding only this venv's bin (so no systemctl/launchctl) plus ``tmp/bin``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATTHY_", "XDG_", "OPENAI_"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"), PATH=f"{bindir}:{VENV_BIN}",
               CHATTHY_CONFIG_DIR=str(tmp_path / "c"), CHATTHY_DATA_DIR=str(tmp_path / "d"),
               CHATTHY_STATE_DIR=str(tmp_path / "s"), CHATTHY_SOCKET=str(tmp_path / "s.sock"),
               OPENAI_API_KEY="sk-never-in-a-unit", NO_COLOR="1")
    return tmp_path, env


def run(env, *args, check=True):
    out = subprocess.run([CHATTHY, *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def fake_systemctl(bindir: Path, *, fail: bool = False) -> Path:
    """A stand-in service manager: records its arguments (and fails like a missing user bus)."""
    log = bindir / "systemctl.log"
    script = bindir / "systemctl"
    body = 'echo "Failed to connect to bus: No medium found" >&2; exit 1' if fail else \
        'case "$2" in is-enabled) echo enabled ;; is-active) echo inactive ;; esac'
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\n{body}\n')
    script.chmod(0o755)
    return log


def test_install_without_systemctl_writes_the_unit_and_says_what_to_run(svc_home):
    root, env = svc_home
    out = run(env, "daemon", "install")
    unit = root / "xdg" / "systemd" / "user" / "chatthy.service"
    text = unit.read_text()
    assert re.search(rf"^ExecStart={re.escape(VENV_BIN)}/python[0-9.]* -m chatthy.server$", text, re.M)
    assert f"Environment=CHATTHY_SOCKET={root}/s.sock" in text
    assert "sk-never-in-a-unit" not in text
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert out.stdout.splitlines() == ["systemctl --user daemon-reload", "systemctl --user enable --now chatthy.service"]

    run(env, "daemon", "install", "--socket")
    socket_unit = unit.with_name("chatthy.socket")
    assert f"ListenStream={root}/s.sock" in socket_unit.read_text()
    assert "Requires=chatthy.socket" in unit.read_text()

    run(env, "daemon", "install")  # back to a plain service: the socket unit goes
    assert not socket_unit.exists() and "Requires=" not in unit.read_text()

    out = run(env, "daemon", "uninstall")
    assert not unit.exists()
    assert "systemctl --user disable --now chatthy.service" in out.stdout
    run(env, "daemon", "uninstall")  # nothing left to remove: still a success


def test_install_enables_through_systemctl(svc_home):
    root, env = svc_home
    log = fake_systemctl(root / "bin")
    run(env, "daemon", "install", "--socket")
    assert log.read_text().splitlines() == ["--user daemon-reload", "--user enable --now chatthy.socket"]

    status = run(env, "daemon", "status", "--json", check=False)
    assert status.returncode == 3  # no daemon runs: the fake manager started nothing
    import json

    service = json.loads(status.stdout)["service"]
    assert service["installed"] and service["socket_activated"] and service["enabled"] == "enabled"

    log.write_text("")
    run(env, "daemon", "install")  # switching to a plain service: the socket unit is disabled first
    assert log.read_text().splitlines() == ["--user disable --now chatthy.service chatthy.socket",
                                            "--user daemon-reload", "--user enable --now chatthy.service"]
    log.write_text("")
    run(env, "daemon", "uninstall")
    assert log.read_text().splitlines() == ["--user disable --now chatthy.service", "--user daemon-reload"]
    assert list((root / "xdg" / "systemd" / "user").iterdir()) == []


def test_no_enable_never_calls_systemctl(svc_home):
    root, env = svc_home
    log = fake_systemctl(root / "bin")
    out = run(env, "daemon", "install", "--no-enable")
    assert not log.exists()
    assert (root / "xdg" / "systemd" / "user" / "chatthy.service").exists()
    assert "systemctl --user enable --now chatthy.service" in out.stdout


def test_a_failing_systemctl_is_reported_and_the_unit_stays(svc_home):
    root, env = svc_home
    fake_systemctl(root / "bin", fail=True)
    out = run(env, "daemon", "install", check=False)
    assert out.returncode == 3
    assert "systemctl --user daemon-reload` failed (exit 1): Failed to connect to bus" in out.stderr
    assert (root / "xdg" / "systemd" / "user" / "chatthy.service").exists()


def test_install_print_writes_nothing(svc_home):
    root, env = svc_home
    out = run(env, "daemon", "install", "--socket", "--print")
    assert f"# {root}/xdg/systemd/user/chatthy.service" in out.stdout
    assert f"# {root}/xdg/systemd/user/chatthy.socket" in out.stdout and "ListenStream=" in out.stdout
    assert not (root / "xdg").exists()


def test_launchd_install_writes_the_agent(svc_home):
    root, env = svc_home
    out = run(env, "daemon", "install", "--manager", "launchd")
    plist = root / "Library" / "LaunchAgents" / "io.github.chatthy.plist"
    agent = plistlib.loads(plist.read_bytes())
    program, *args = agent["ProgramArguments"]
    assert Path(program).parent == Path(VENV_BIN) and args == ["-m", "chatthy.server"]
    assert agent["EnvironmentVariables"]["CHATTHY_SOCKET"] == f"{root}/s.sock"
    assert out.stdout.strip() == f"launchctl bootstrap gui/{os.getuid()} {plist}"
    assert run(env, "daemon", "install", "--manager", "launchd", "--socket", check=False).returncode == 2
    run(env, "daemon", "uninstall", "--manager", "launchd")
    assert not plist.exists()
