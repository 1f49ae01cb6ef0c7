"""Prices per model in config make `chatthy usage` show a cost."""

from __future__ import annotations

import json

from tests.conftest import FAKE_CONFIG


def test_usage_shows_cost_when_prices_are_configured(home, fake):
    cfg = home.config_dir / "config.toml"
    cfg.write_text(FAKE_CONFIG.format(openai=fake.openai_base_url, anthropic=fake.anthropic_base_url)
                   .replace('[providers.fakeant]', '[providers.fake.prices]\n"fake-model" = [1000000.0, 2000000.0]\n\n[providers.fakeant]'))
    home.run("ask", "-c", "paid", "one two three", check=True)
    out = home.run("usage", "--json", check=True)
    assert "cost" in out.stdout
    data = json.loads(out.stdout)
    text = json.dumps(data)
    assert '"cost"' in text


def test_bad_prices_are_refused_with_the_line(home, fake):
    cfg = home.config_dir / "config.toml"
    cfg.write_text(cfg.read_text() + '\n[providers.fake.prices]\n"fake-model" = "cheap"\n')
    out = home.run("chat", "list")
    assert out.returncode == 10 and "prices" in out.stderr
