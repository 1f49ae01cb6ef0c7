"""Token counters corrected by what each (provider, model) really counts.

For models whose tokenizer is not public the count is a cl100k_base estimate;
every reply's reported input tokens refine a per-(provider, model) factor,
kept in the settings table so it survives restarts. Exact counters (OpenAI
models) are never corrected.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatthy.config import ProviderConfig
    from chatthy.context import Calibration, TokenCounter
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.server")


def setting_key(provider: str, model: str) -> str:
    return f"calibration:{provider}:{model}"


def load_calibration(store, provider: str, model: str) -> Calibration:
    from chatthy.context import Calibration
    from chatthy.errors import ConfigError

    raw = store.get_setting(setting_key(provider, model))
    if raw is None:
        return Calibration()
    try:
        return Calibration.from_dict(json.loads(raw))
    except (ValueError, ConfigError):
        log.warning("ignoring a malformed token calibration for %s/%s: %r", provider, model, raw)
        return Calibration()


def counter_for(daemon: Daemon, provider: ProviderConfig, model: str) -> TokenCounter:
    """The counter for requests to ``model`` on ``provider``, calibrated if it estimates."""
    from chatthy.context import TokenCounter

    base = daemon.token_counter(model, provider.kind)
    if base.exact:
        return base
    calibration = load_calibration(daemon.store, provider.name, model)
    if calibration.samples == 0:
        return base
    # Cheap: the encoding is cached process-wide, a counter is a few attributes.
    return TokenCounter(model, provider.kind, calibration.factor)


def observe(daemon: Daemon, provider: ProviderConfig, model: str, counter: TokenCounter,
            estimated: int, reported: int | None) -> None:
    """Fold one reply's reported input tokens into the stored factor."""
    if counter.exact or not reported:
        return
    calibration = load_calibration(daemon.store, provider.name, model)
    # ``estimated`` was made with the counter's factor: undo it, so the stored
    # factor stays absolute (reported ÷ raw cl100k count).
    raw = round(estimated / counter.calibration)
    before = calibration.to_dict()
    calibration.observe(raw, reported)
    if calibration.to_dict() != before:  # most replies teach nothing new: no write
        daemon.store.set_setting(setting_key(provider.name, model), json.dumps(calibration.to_dict()))
