"""The tool loop: the model asks, the daemon runs the tools, the results go back, the model goes on.

``stream_with_tools`` wraps a provider's stream for a generation. Without
tools it is the provider's stream as is. With tools, each round streams the
model's text to the generation as usual; the tool calls it ends with are run
one after the other (asking for approval where configured), recorded in
``tool_calls`` and shown to followers as events, and the request goes out
again with the calls and their results, until the model answers without
calling a tool or the round limit (``[tools] max_rounds``) is hit. Then the
calls the model still asked for are not run, the reply ends, and followers
get a ``tool_limit`` event saying so.

Rounds' texts are one reply (one message row): the offsets where each round's
text ended are kept in the row's ``meta.tool_rounds``, so the exchange can be
replayed exactly (chatthy/server/tool_plan.py). The calls' tokens (arguments
and results) are added to the reply's token count; a result is cut to
``[tools] max_result_tokens`` and to what the context window still has room for.

Events (``event`` frames on the ask stream, in order with the text)::

    {"kind": "tool_call", "call_id", "tool", "arguments", "round"}
    {"kind": "approval", "call_id", "tool", "arguments", "timeout"}      (confirm tools)
    {"kind": "approval_result", "call_id", "tool", "answer", "reason"?}
    {"kind": "tool_result", "call_id", "tool", "status", "result", "duration_ms"}
    {"kind": "tool_limit", "rounds", "message"}
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, AsyncIterator

import anyio

if TYPE_CHECKING:
    from chatthy.llm import ChatRequest, Event, Provider, ToolCall
    from chatthy.server.generation import Generation
    from chatthy.server.tool_plan import ToolRun

log = logging.getLogger("chatthy.tools")

ROUND_SEPARATOR = "\n\n"
RESULT_RESERVE = 256  # tokens kept free in the window for the model's answer after the tools
CALL_OVERHEAD = 4


async def stream_with_tools(daemon, gen: Generation, provider: Provider, request: ChatRequest) -> AsyncIterator[Event]:
    """The provider's events for ``request``, running tool rounds in between (see the module doc)."""
    from chatthy.llm import Done, TextDelta, ToolCall, Usage

    run: ToolRun | None = gen.tool_run
    if run is None or not request.tools:
        async for event in provider.stream(request):
            yield event
        return
    audience = run.audience or gen
    messages = list(request.messages)
    rounds: list[dict] = []
    usage = {"input_tokens": 0, "output_tokens": 0, "rounds": 0}
    streamed = 0  # characters of text yielded so far (gen.text offsets)
    separate = False
    stop_reason = None
    round_no = 0
    while True:
        calls: list[ToolCall] = []
        texts: list[str] = []
        async with contextlib.aclosing(provider.stream(replace(request, messages=messages))) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if not event.text:
                        continue
                    if separate:
                        separate = False
                        streamed += len(ROUND_SEPARATOR)
                        yield TextDelta(ROUND_SEPARATOR)
                    texts.append(event.text)
                    streamed += len(event.text)
                    yield event
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, Usage):
                    _add_usage(gen, usage, event)
                elif isinstance(event, Done):
                    stop_reason = event.stop_reason
        if not calls:
            break
        text = "".join(texts)
        rounds.append({"end": streamed})
        limit_hit = round_no >= run.max_rounds
        _save_rounds(daemon, gen, rounds, limit_hit)
        if limit_hit:
            await _skip(run, gen, audience, calls, round_no)
            message = (f"the model asked for more tools after {run.max_rounds} round"
                       f"{'s' * (run.max_rounds != 1)}; stopped there (raise [tools] max_rounds to allow more)")
            audience.add_event({"kind": "tool_limit", "rounds": run.max_rounds, "message": message})
            stop_reason = "tool_limit"
            break
        results = [await _execute(run, gen, audience, call, round_no) for call in calls]
        messages.append({"role": "assistant", "content": text, "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]})
        for call, (result, is_error) in zip(calls, results):
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result, "is_error": is_error})
        if text:  # a round with no text leaves the last one's separator pending
            separate = not text.endswith("\n")
        round_no += 1
    yield Done(stop_reason)


def _add_usage(gen: Generation, usage: dict, event) -> None:
    """Sum what every round cost; ``first_input_tokens`` is the request as planned (for calibration)."""
    usage["rounds"] += 1
    if event.input_tokens is not None:
        usage.setdefault("first_input_tokens", event.input_tokens)
        usage["input_tokens"] += event.input_tokens
    if event.output_tokens is not None:
        usage["output_tokens"] += event.output_tokens
    gen.usage = dict(usage)


def _save_rounds(daemon, gen: Generation, rounds: list[dict], limit_hit: bool) -> None:
    found = daemon.store.get_message(gen.message_id)
    meta = dict((found.meta if found else None) or {})
    meta["tool_rounds"] = list(rounds)
    if limit_hit:
        meta["tool_limit"] = True
    daemon.store.update_message(gen.message_id, meta=meta, content=gen.text)


def _publish(run: ToolRun, gen: Generation, event: dict) -> None:
    run.daemon.publish(gen.chat_id, {**event, "chat": gen.chat_name})


async def _skip(run: ToolRun, gen: Generation, audience, calls: list, round_no: int) -> None:
    from chatthy.server.tool_plan import NOT_RUN
    from chatthy.tools import storage

    conn = run.daemon.store.conn
    for call in calls:
        row = storage.add_call(conn, gen.message_id, round_no, call.id, call.name, call.arguments)
        storage.finish_call(conn, row, status="skipped", result=None)
        event = {"kind": "tool_result", "call_id": call.id, "tool": call.name, "status": "skipped",
                 "result": NOT_RUN["skipped"], "duration_ms": 0}
        audience.add_event(event)


async def _execute(run: ToolRun, gen: Generation, audience, call: ToolCall, round_no: int) -> tuple[str, bool]:
    """Run one call; record it; return (the text the model gets, whether it is an error)."""
    from chatthy.tools import storage
    from chatthy.tools.registry import ToolContext, ToolError, check_arguments

    daemon = run.daemon
    conn = daemon.store.conn
    row = storage.add_call(conn, gen.message_id, round_no, call.id, call.name, call.arguments)
    event = {"kind": "tool_call", "call_id": call.id, "tool": call.name, "arguments": call.arguments,
             "round": round_no + 1}
    audience.add_event(event)
    _publish(run, gen, event)
    started = time.monotonic()
    status, text, error = "ok", "", None
    tool = run.tools.get(call.name)
    try:
        if tool is None:
            raise ToolError(f"there is no tool {call.name!r} (available: {', '.join(sorted(run.tools))})")
        check_arguments(tool.spec, call.arguments)
        if tool.spec.confirm and not (run.chat is not None
                                      and storage.always_approved(conn, run.chat.id, call.name)):
            status, text = await _approve(run, audience, call)
        if status == "ok":
            result = await tool.run(call.arguments, ToolContext(daemon, run.profile, run.chat))
            text = result.text
            if result.is_error:
                status, error = "error", result.text
    except ToolError as exc:
        status, error = "error", str(exc) or type(exc).__name__
        text = f"error: {error}"
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            storage.finish_call(conn, row, status="cancelled", result=None,
                                duration_ms=_ms(started))
            audience.add_event({"kind": "tool_result", "call_id": call.id, "tool": call.name,
                                "status": "cancelled", "result": "", "duration_ms": _ms(started)})
        raise
    except Exception as exc:  # a tool's bug is the model's error result, never the daemon's crash
        log.exception("tool %s failed", call.name)
        status, error = "error", f"{type(exc).__name__}: {exc}"
        text = f"error: the tool failed: {error}"
    text, tokens = _fit(run, call, text)
    gen.extra_tokens += tokens
    run.room -= tokens
    duration = _ms(started)
    storage.finish_call(conn, row, status=status, result=text, error=error, duration_ms=duration, tokens=tokens)
    event = {"kind": "tool_result", "call_id": call.id, "tool": call.name, "status": status,
             "result": text, "duration_ms": duration}
    audience.add_event(event)
    _publish(run, gen, event)
    return text, status != "ok"


async def _approve(run: ToolRun, audience, call: ToolCall) -> tuple[str, str]:
    from chatthy.server.tool_runtime import runtime
    from chatthy.tools import storage

    answer, why = await runtime(run.daemon).approvals.ask(
        audience, tool=call.name, arguments=call.arguments, chat_id=run.chat.id if run.chat else None,
        timeout=run.approval_timeout, tool_call_id=call.id)
    if answer == "always" and run.chat is not None:
        storage.approve_always(run.daemon.store.conn, run.chat.id, call.name)
    if answer in ("yes", "always"):
        return "ok", ""
    return "refused", f"not run: {why}"


def _fit(run: ToolRun, call: ToolCall, text: str) -> tuple[str, int]:
    """``text`` cut to the result limit and the room left; (text, tokens the call costs in all)."""
    counter = run.counter
    framing = counter.count(call.name + json.dumps(call.arguments, ensure_ascii=False)) + 2 * CALL_OVERHEAD
    limit = min(run.max_result_tokens, run.room - RESULT_RESERVE - framing)
    if limit < 16:
        text = "error: the result was dropped: the context window has no room left for it"
        return text, framing + counter.count(text)
    # A token is rarely under two characters: no need to count megabytes to cut them.
    cut = len(text) > limit * 8
    if cut:
        text = text[:limit * 8]
    tokens = counter.count(text)
    if tokens > limit:
        cut = True
        text = text[:int(len(text) * limit / tokens * 0.9)]
    if cut:
        text += f"\n[cut: the result was longer than {limit:,} tokens]"
        tokens = counter.count(text)
    return text, framing + tokens


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
