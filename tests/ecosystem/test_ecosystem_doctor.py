"""`chatthy doctor`: every check, what makes one fail, and keys never shown."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from tests.conftest import FAKE_CONFIG, make_home

SECRET = "sk-test-Zq8vN3doctor-must-never-print-this"


def checks_of(out) -> dict[str, dict]:
    data = json.loads(out.stdout)
    return {c["check"]: c for c in data["checks"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _home(fake):
    home = make_home(fake)
    home.env["FAKE_API_KEY"] = SECRET
    try:
        yield home
    finally:
        home.stop_daemon()
        shutil.rmtree(home.root, ignore_errors=True)


@pytest.fixture
def doctor_home(fake):
    yield from _home(fake)


@pytest.fixture(scope="module")
def healthy_home(shared_fake):
    """Shared by the tests that only read: the first doctor run starts its daemon."""
    yield from _home(shared_fake)


def test_a_healthy_setup(healthy_home):
    home = healthy_home
    out = home.run("doctor", "--json", "--timeout", "3")
    assert SECRET not in out.stdout + out.stderr
    checks = checks_of(out)
    assert out.returncode == 0, out.stdout
    assert json.loads(out.stdout)["ok"] is True
    for name in ("config", "directories", "key files", "daemon key", "socket", "daemon", "version",
                 "sqlite-vec", "database", "disk", "provider workers", "provider fake", "provider fakeant"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["provider workers"]["message"].startswith("1 running (pid ")
    assert "started by doctor" in checks["daemon"]["message"] or "running" in checks["daemon"]["message"]
    assert "key from $FAKE_API_KEY" in checks["provider fake"]["message"]
    assert "2 models" in checks["provider fake"]["message"]
    assert checks["service"]["status"] == "skip"
    assert checks["embedder"]["status"] in ("ok", "skip", "fail")
    # Shipped providers this user never set up are warnings, not failures.
    assert checks["provider openai"]["status"] == "warn"
    assert "OPENAI_API_KEY is not set" in checks["provider openai"]["message"]

    again = home.run("doctor", "--json", "--offline")
    assert "running, pid" in checks_of(again)["daemon"]["message"]
    assert checks_of(again)["provider fake"]["status"] == "skip"


def test_text_output_one_line_per_check(healthy_home):
    out = healthy_home.run("doctor", "--offline")
    assert out.returncode == 0, out.stdout
    lines = [l for l in out.stdout.splitlines() if l and not l.startswith(" ")]
    assert lines[0].startswith("ok    config")
    assert all(l.split()[0] in ("ok", "warn", "fail", "skip") for l in lines[:-1])
    assert lines[-1] in ("everything looks fine",) or lines[-1].endswith("warnings")


def test_loose_key_permissions_fail_with_the_fix(doctor_home):
    home = doctor_home
    home.run("doctor", "--offline", check=True)  # creates the keys
    key = home.config_dir / "client.key"
    key.chmod(0o644)
    out = home.run("doctor", "--json", "--offline")
    assert out.returncode == 1
    check = checks_of(out)["key files"]
    assert check["status"] == "fail" and f"chmod 600 {key}" in check["fix"]
    assert key.read_text().strip() not in out.stdout  # the key itself is never shown
    text = home.run("doctor", "--offline")
    assert text.returncode == 1 and "fail  key files" in text.stdout and "fix: chmod 600" in text.stdout


def test_an_invalid_config_fails_with_its_line(doctor_home):
    home = doctor_home
    path = home.config_dir / "config.toml"
    path.write_text(path.read_text() + "\n[chat]\ntruncation = 'sometimes'\n")
    out = home.run("doctor", "--json", "--offline")
    assert out.returncode == 1
    checks = checks_of(out)
    assert checks["config"]["status"] == "fail" and "config.toml:" in checks["config"]["message"]
    assert "truncation" in checks["config"]["message"]
    assert checks["daemon"]["status"] == "fail"  # the daemon cannot start with it either


def test_an_unreachable_default_provider_fails(fake):
    home = make_home(None)
    home.config_dir.mkdir(mode=0o700, parents=True)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    (home.config_dir / "config.toml").write_text(
        FAKE_CONFIG.format(openai=dead, anthropic=fake.anthropic_base_url))
    try:
        out = home.run("doctor", "--json", "--timeout", "3")
        checks = checks_of(out)
        assert out.returncode == 1
        assert checks["provider fake"]["status"] == "fail"  # the default provider
        assert checks["provider fakeant"]["status"] == "ok"
        assert "sk-test-fake" not in out.stdout
    finally:
        home.stop_daemon()
        shutil.rmtree(home.root, ignore_errors=True)


def test_without_a_daemon_and_no_autostart(doctor_home):
    out = doctor_home.run("--no-autostart", "doctor", "--json")
    assert out.returncode == 1
    checks = checks_of(out)
    assert checks["daemon"]["status"] == "fail" and "chatthy daemon start" in checks["daemon"]["fix"]
    assert checks["disk"]["status"] in ("ok", "warn")  # still checked, by the client
    assert not (doctor_home.state_dir / "daemon.pid").exists()


def test_a_service_pointing_at_a_removed_python_fails(healthy_home, tmp_path):
    home = healthy_home
    unit = tmp_path / "xdg" / "systemd" / "user" / "chatthy.service"
    unit.parent.mkdir(parents=True)
    unit.write_text('[Service]\nExecStart="/gone/venv %%1/bin/python" -m chatthy.server\n')
    saved, home.env = home.env, {**home.env, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    try:
        check = checks_of(home.run("doctor", "--json", "--offline"))["service"]
    finally:
        home.env = saved
    assert check["status"] == "fail" and "/gone/venv %1/bin/python" in check["message"]
    assert "chatthy daemon install" in check["fix"]
