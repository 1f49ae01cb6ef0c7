"""models.list: the models each provider offers (its API's list, else the configured one)."""

from __future__ import annotations

import logging

import anyio

from chatthy.errors import ChatthyError
from chatthy.server.params import Name
from chatthy.server.registry import method

log = logging.getLogger("chatthy.server")

LIST_TIMEOUT = 15.0  # seconds per provider; they are asked at the same time


async def _models_of(daemon, name: str) -> tuple[list[str], str | None]:
    """The provider's model ids from its API, or ([], why not)."""
    try:
        with anyio.fail_after(LIST_TIMEOUT):
            return sorted(set(await daemon.providers.get(name).list_models())), None
    except TimeoutError:
        return [], f"no answer within {LIST_TIMEOUT:.0f} s"
    except ChatthyError as exc:
        return [], exc.message
    except Exception as exc:  # an SDK surprise must not hide the other providers
        log.exception("listing the models of %s failed", name)
        return [], f"{type(exc).__name__}: {exc}"


@method("models.list", provider=Name())
async def models_list(ctx, p):
    """Rows {provider, model, source: "api"|"config", default, error?}, providers in name order."""
    d = ctx.daemon
    names = [d.config.provider(p["provider"]).name] if p["provider"] else sorted(d.config.providers)
    found: dict[str, tuple[list[str], str | None]] = {}

    async def one(name: str) -> None:
        found[name] = await _models_of(d, name)

    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(one, name)
    rows = []
    for name in names:
        cfg = d.config.providers[name]
        models, error = found[name]
        if cfg.model not in models:
            row = {"provider": name, "model": cfg.model, "source": "config", "default": True}
            if error:
                row["error"] = error
            rows.append(row)
        rows += [{"provider": name, "model": m, "source": "api", "default": m == cfg.model} for m in models]
    return rows
