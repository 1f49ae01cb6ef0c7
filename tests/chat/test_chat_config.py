"""`chatthy config path|show|init|edit`: file operations on this machine, no daemon."""

from __future__ import annotations

import json
import sys
import tomllib

from chatthy.config import DEFAULT_CONFIG_TEXT


def edit_with(home, text: str | None):
    """Run `chatthy config edit` with an $EDITOR that writes ``text`` (None: leaves it)."""
    script = home.root / "editor.py"
    body = "pass\n" if text is None else f"open(sys.argv[1], 'w').write({text!r})\n"
    script.write_text("import sys\n" + body)
    saved = home.env
    home.env = {**saved, "EDITOR": f"{sys.executable} {script}"}
    try:
        return home.run("config", "edit")
    finally:
        home.env = saved


def test_path_and_show(home):
    out = home.run("config", "path", check=True)
    assert out.stdout == f"{home.config_dir / 'config.toml'}\n"
    shown = home.run("config", "show", check=True).stdout
    parsed = tomllib.loads(shown)
    assert parsed["default_provider"] == "fake"
    assert parsed["providers"]["fake"]["context_length"] == 8192
    assert parsed["providers"]["openai"]["model"] == "gpt-4o-mini"  # shipped defaults merged in
    assert parsed["chat"]["truncation"] == "drop"
    assert json.loads(home.run("config", "show", "--json", check=True).stdout) == parsed
    assert not home.socket.exists()  # no daemon was started for any of it


def test_init_never_overwrites_without_force(home):
    target = home.config_dir / "config.toml"
    mine = target.read_text()
    out = home.run("config", "init")
    assert out.returncode == 8 and "--force" in out.stderr
    assert target.read_text() == mine
    home.run("config", "init", "--force", check=True)
    assert target.read_text() == DEFAULT_CONFIG_TEXT
    assert (home.config_dir / "config.toml.bak").read_text() == mine
    target.unlink()
    home.run("config", "init", check=True)
    assert target.read_text() == DEFAULT_CONFIG_TEXT and (target.stat().st_mode & 0o777) == 0o600


def test_edit_saves_only_a_valid_file(home):
    target = home.config_dir / "config.toml"
    before = target.read_text()
    out = edit_with(home, before + '\n[chat]\ntruncation = "sometimes"\n')
    assert out.returncode == 10
    assert "config.toml:" in out.stderr and "truncation" in out.stderr and "not saved" in out.stderr
    assert target.read_text() == before
    out = edit_with(home, None)
    assert out.returncode == 0 and target.read_text() == before
    out = edit_with(home, before + '\n[chat]\ntruncation = "summarise"\n')
    assert out.returncode == 0, out.stderr
    assert tomllib.loads(home.run("config", "show", check=True).stdout)["chat"]["truncation"] == "summarise"
    assert (target.stat().st_mode & 0o777) == 0o600
