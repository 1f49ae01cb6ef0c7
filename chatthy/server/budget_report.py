"""``chat.tokens``: what the chat's next request would hold, part by part.

Planned exactly as an ask would be (same contributors, same fitting), minus
the new input and without making a summary: a summary that is not cached yet
is reported as made at the next ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.context import split_turns

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon


def _span(messages) -> dict:
    return {"messages": len(messages), "turns": len(split_turns(messages)),
            "tokens": sum(m.tokens for m in messages)}


async def budget_report(d: Daemon, profile, chat, *, provider: str | None, model: str | None) -> dict:
    from chatthy.server.reply import ask_params, plan_reply

    from chatthy.server.history_fit import chat_history

    rows = chat_history(d, chat)
    params = ask_params(prompt="", chat=chat.name if chat else None, provider=provider, model=model)
    plan = await plan_reply(d, profile, chat, params, rows, None, make_summary=False)
    assembled = plan.assembled
    parts = assembled.report()
    summary = plan.fitted.summary
    if summary is not None:
        for row in parts:
            if row["part"] == summary.name:
                row["status"] = "summary"
            elif row["status"] == "dropped":
                row["status"] = "summarised"
    elif plan.fitted.pending_summary:
        n = plan.fitted.pending_summary
        parts.insert(len(assembled.system_parts), {
            "part": f"summary of {n:,} earlier message{'s' * (n != 1)}", "tokens": None,
            "status": "made at the next ask"})
    counter = plan.counter
    cfg = plan.provider_cfg
    return {
        "profile": profile.name,
        "chat": chat.name if chat is not None else None,
        "personality": (chat.personality if chat is not None else None) or "default",
        "provider": cfg.name,
        "model": plan.model,
        "counting": {"encoding": counter.encoding_name, "exact": counter.exact,
                     "calibration": counter.calibration},
        "context_length": cfg.context_length,
        "max_tokens": cfg.max_tokens,
        "budget": assembled.budget,
        "truncation": d.config.truncation,
        "parts": parts,
        "kept": _span(assembled.history),
        "dropped": _span(assembled.dropped),
        "summary": summary.name if summary is not None else None,
        "used": assembled.used,
        "remaining": assembled.budget - assembled.used,
    }
