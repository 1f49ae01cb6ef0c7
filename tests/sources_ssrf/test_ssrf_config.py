"""`[sources] allow_private_urls` in config.toml: a boolean, off by default."""

from __future__ import annotations

import pytest

from chatthy import config
from chatthy.errors import ConfigError
from chatthy.sources import SourceSettings


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_off_by_default_and_documented_in_the_generated_file(tmp_path):
    path = tmp_path / "config.toml"
    loaded = config.load(path)  # creates the commented default file
    assert SourceSettings.of(loaded).allow_private_urls is False
    assert "# allow_private_urls = false" in path.read_text()


def test_true_is_read(tmp_path):
    loaded = config.load(write(tmp_path, "[sources]\nallow_private_urls = true\n"))
    assert SourceSettings.of(loaded).allow_private_urls is True


@pytest.mark.parametrize("value", ['"yes"', "1", '"true"'])
def test_anything_but_a_boolean_is_refused_with_file_and_line(tmp_path, value):
    path = write(tmp_path, f"[sources]\ntimeout = 5\nallow_private_urls = {value}\n")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    message = caught.value.message
    assert str(path) in message and "allow_private_urls" in message and "bool" in message
