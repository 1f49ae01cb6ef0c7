"""Starting a reply: what ``ask``, ``chat.retry`` and ``chat.edit_message`` share.

A reply is first *planned* (provider, model, counter, the fixed parts from the
contributors, history fitted to the budget, perhaps summarised) without
writing anything, so a refused request leaves the chat as it was. The caller
then writes its rows in one transaction, and ``start_reply`` hands the request
to a generation and follows it for the client. When the generation ends, its
usage is logged and, for estimated token counts, folded into the calibration.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chatthy.context import FixedPart, HistoryMessage
from chatthy.server.calibrated import counter_for, observe
from chatthy.server.compose import AskContext, fixed_parts, system_text
from chatthy.server.generation import Generation
from chatthy.server.history_fit import Fitted, OutlinedMessage, Target, fit_history, with_texts
from chatthy.request_options import check_options

if TYPE_CHECKING:
    from chatthy.llm import ChatRequest
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.server")


def history_for_request(messages) -> list[HistoryMessage]:
    """Rows worth replaying: complete messages, and replies cut short that have text.

    ``messages`` are store Message rows, or history already (from
    ``chatthy.server.history_fit.chat_history``: the fast way, no text read
    until ``with_texts`` fills in what is kept), passed through.
    """
    if messages and isinstance(messages[0], (HistoryMessage, OutlinedMessage)):
        return list(messages)
    return [HistoryMessage(m.id, m.role, m.content, m.tokens or 0, m.meta)
            for m in messages if m.role in ("user", "assistant", "tool") and (m.status == "complete" or m.content)]


def request_messages(history: list[HistoryMessage], input_text: str) -> list[dict]:
    """The provider-neutral messages of a request: the kept history, then the input."""
    messages = [{"role": m.role, "content": m.content} for m in history]
    messages.append({"role": "user", "content": input_text})
    return messages


def last_user_message(rows):
    for m in reversed(rows):
        if m.role == "user":
            return m
    return None


def ensure_idle(daemon: Daemon, chat) -> None:
    """Refuse to touch a chat whose reply is still being generated."""
    if chat is not None and daemon.generations.for_chat(chat.id) is not None:
        raise daemon.generations.busy_error(chat.name)


def ask_params(**given: Any) -> dict:
    """Full ``ask`` parameters (every contributor's keys, with their defaults) for a
    reply that is not an ``ask``: retry and edit go through the same contributors."""
    from chatthy.server.registry import lookup

    return lookup("ask").validate({k: v for k, v in given.items() if v is not None})


@dataclass
class Plan:
    profile: Any
    chat: Any
    params: dict
    provider_cfg: Any
    provider: Any
    model: str
    counter: Any
    fitted: Fitted
    input_text: str | None
    tools: Any = None  # chatthy.server.tool_plan.ToolPlan: tools, images, tool rounds in the history

    @property
    def assembled(self):
        return self.fitted.assembled

    @property
    def input_tokens(self) -> int:
        return self.assembled.input.tokens if self.assembled.input is not None else 0

    def request(self) -> ChatRequest:
        from chatthy.llm import ChatRequest

        assert self.input_text is not None
        request = ChatRequest(
            model=self.model,
            messages=request_messages(self.assembled.history, self.input_text),
            system=system_text(self.assembled.system_parts),
            max_tokens=self.provider_cfg.max_tokens,
            # -o options win over the provider's configured params, for this request.
            params={**self.provider_cfg.params, **check_options(self.params.get("options"))},
        )
        return self.tools.shape(request, self.assembled.history) if self.tools is not None else request


async def plan_reply(daemon: Daemon, profile, chat, params: dict, rows, input_text: str | None, *,
                     make_summary: bool = True) -> Plan:
    """Everything a reply needs, decided before any row is written.

    ``rows`` is the history before the input (``chat_history``, or Message rows);
    ``input_text`` None plans the parts alone (``chat tokens``).
    Raises NotFound (provider, personality), ContextOverflow, ProviderError
    (a summary could not be made).
    """
    check_options(params.get("options"))  # refused here, before anything is written
    provider_cfg = daemon.config.provider(params.get("provider") or (chat.provider if chat else None))
    provider = daemon.providers.get(provider_cfg.name)
    model = params.get("model") or (chat.model if chat else None) or provider_cfg.model
    counter = counter_for(daemon, provider_cfg, model)
    from chatthy.server.tool_plan import plan_tools

    tool_plan = await plan_tools(daemon, profile, chat, params, provider_cfg, counter)
    fixed = fixed_parts(AskContext(daemon, profile, chat, params, counter, provider_cfg, model))
    fixed += tool_plan.fixed_parts()
    new_input = None
    if input_text is not None:
        new_input = FixedPart("input", input_text,
                              counter.count_message("user", input_text) + tool_plan.image_tokens)
    target = Target(daemon, profile, chat, provider_cfg, provider, model, counter)
    fitted = await fit_history(target, fixed, history_for_request(rows), new_input, make_summary=make_summary)
    fitted.assembled = replace(fitted.assembled, history=with_texts(daemon, chat, fitted.assembled.history))
    return Plan(profile, chat, params, provider_cfg, provider, model, counter, fitted, input_text, tool_plan)


async def start_reply(ctx, plan: Plan, chat, user, reply, *, new_user: bool = True) -> dict:
    """Start the generation for ``reply`` (a partial row) and follow it for the client.

    ``new_user``: ``user`` was just added (watchers are told); False when the
    reply answers a question already in the chat (retry, edit).
    """
    d = ctx.daemon
    gen = Generation(chat.id, chat.name, reply.id, plan.provider_cfg.name, plan.model)
    if plan.tools is not None:
        plan.tools.user_message_id = user.id
        gen.tool_run = plan.tools.run(plan.profile, chat, plan.assembled)
        plan.tools.announce(gen)  # stored tools that are gone: one log line, one event
    # Stored with the message framing, like questions: history sums are then what a request costs.
    d.generations.start(gen, plan.provider, plan.request(),
                        lambda text: plan.counter.count_message("assistant", text))
    ctx.running.generation = gen
    d.task_group.start_soon(_account, d, plan, chat, gen)
    if new_user:
        d.publish(chat.id, {"kind": "user_message", "chat": chat.name, "message": user.to_dict()})
    d.publish(chat.id, {"kind": "reply_start", **gen.summary()})
    assembled = plan.assembled
    await ctx.event({
        "kind": "start",
        **gen.summary(),
        "user_message_id": user.id,
        "dropped": len(assembled.dropped),
        "summary": plan.fitted.summary.name if plan.fitted.summary else None,
        "tokens": assembled.used,
        "budget": assembled.budget,
    }, 0)
    return await gen.follow(ctx.chunk, events=ctx.event)


async def _account(d: Daemon, plan: Plan, chat, gen: Generation) -> None:
    """When the reply ends: log what it cost, and learn from the reported input tokens."""
    from chatthy.store.usage import log_usage

    await gen.finished.wait()
    usage = gen.usage or {}
    try:
        alive = d.store.get_chat_by_id(chat.id) is not None
        log_usage(d.store.conn, profile_id=plan.profile.id, chat_id=chat.id if alive else None,
                  chat=chat.name, kind="reply", provider=plan.provider_cfg.name, model=plan.model,
                  input_tokens=usage.get("input_tokens"), output_tokens=usage.get("output_tokens"),
                  duration_ms=int((time.monotonic() - gen.started) * 1000), status=gen.status)
        observe(d, plan.provider_cfg, plan.model, plan.counter, plan.assembled.used,
                usage.get("first_input_tokens", usage.get("input_tokens")))  # the first of any tool rounds
    except Exception:  # accounting must never take a reply (or the daemon) down
        log.exception("could not record the usage of generation %s", gen.id)


def history_changed(d: Daemon, chat, *, removed=(), edited=()) -> None:
    """Tell the chat's watchers (REPLs) that its history was rewritten."""
    d.publish(chat.id, {"kind": "history_changed", "chat": chat.name,
                        "removed": [m.id for m in removed], "edited": [m.id for m in edited]})
