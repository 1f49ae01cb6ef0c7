"""usage.summary: tokens (and cost, where prices are configured) per provider and model."""

from __future__ import annotations

from datetime import datetime, timezone

from chatthy.errors import BadRequest, NotFound
from chatthy.server.lookup import profile_of
from chatthy.server.params import Name, Str
from chatthy.server.registry import method
from chatthy.store.usage import usage_by_model


def normalise_since(text: str) -> str:
    """An ISO date or date-time (naive = UTC) as the stored ``…Z`` form, for text comparison."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"usage.summary: since {text!r} is not an ISO date (YYYY-MM-DD[THH:MM])") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def price_of(daemon, provider: str, model: str) -> tuple[float, float] | None:
    """USD per million (input, output) tokens, if configured for the model.

    Read from the provider's ``prices`` table (model → [input, output]) when
    the configuration has one; None otherwise, and the cost is not shown.
    """
    cfg = daemon.config.providers.get(provider)
    prices = getattr(cfg, "prices", None) if cfg is not None else None
    if not isinstance(prices, dict):
        return None
    price = prices.get(model, prices.get("*"))
    if isinstance(price, dict):
        price = (price.get("input"), price.get("output"))
    if isinstance(price, (list, tuple)) and len(price) == 2 and all(isinstance(x, (int, float)) for x in price):
        return float(price[0]), float(price[1])
    return None


@method("usage.summary", profile=Name(), chat=Name(), since=Str(max=64))
async def usage_summary(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    since = normalise_since(p["since"]) if p["since"] else None
    chat_id = chat_name = None
    if p["chat"]:
        chat = d.store.get_chat(profile.id, p["chat"])
        if chat is not None:
            chat_id = chat.id
        else:
            chat_name = p["chat"]  # a chat since deleted: its calls are logged under its name
    rows = usage_by_model(d.store.conn, profile.id, chat_id=chat_id, chat=chat_name, since=since)
    if chat_name is not None and not rows:
        raise NotFound(f"chat {chat_name!r} not found in profile {profile.name!r} (and no usage is logged for it)")
    total = {"calls": 0, "input_tokens": 0, "output_tokens": 0, "duration_ms": 0, "unreported": 0,
             "summaries": 0, "cost": None}
    for row in rows:
        price = price_of(d, row["provider"], row["model"])
        row["cost"] = None
        if price is not None:
            row["cost"] = round((row["input_tokens"] * price[0] + row["output_tokens"] * price[1]) / 1e6, 6)
            total["cost"] = round((total["cost"] or 0) + row["cost"], 6)
        for key in ("calls", "input_tokens", "output_tokens", "duration_ms", "unreported", "summaries"):
            total[key] += row[key]
    return {"profile": profile.name, "chat": p["chat"], "since": since, "models": rows, "total": total}
