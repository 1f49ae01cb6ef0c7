"""What tools and images add to a reply's plan, and how they appear in a request.

``plan_tools`` runs while a reply is planned (before any row is written, so a
refusal leaves the chat as it was): it checks the attached images (content,
size, count, and that the model takes images at all) and selects the tools.
Both cost tokens: the tool definitions are a fixed part of the request
(text-less: they travel in the API's ``tools`` field, not in the system
prompt), and the images are counted with the input, estimated per image.

Which tools, first found wins: the ask's own ``tools`` (``-T``/``--tools``,
then kept as the chat's choice), the chat's stored choice (``tools set``, or
an earlier ``-T``), the tools of the chat's personality (``persona set NAME
--tools``; the ask's ``persona`` if it switches it), ``[tools] default``.
A name typed with the ask must exist (BadRequest). A stored choice (the
chat's or the personality's) may name a tool that has since gone from the
config (or whose MCP server is down): the reply goes on without it, the
daemon logs one warning line, and the reply's followers get one
``tools_missing`` event (``{"kind", "tools", "source", "message"}``) before
any text, which ``ask`` prints on stderr.

``ToolPlan.shape`` turns the kept history into neutral messages: a reply that
used tools is replayed as its rounds (assistant text + tool calls, then the
results, the last text), user messages bring their images back (or a note
for a text-only model). When the request carries no tools, past rounds are
flattened into the reply's text instead, since an API may refuse tool
blocks in a request that defines no tools.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from chatthy.errors import BadRequest

if TYPE_CHECKING:
    from chatthy.context import FixedPart, HistoryMessage
    from chatthy.llm import ChatRequest
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.tools")

# Framing the APIs add around each tool call and each result (as for messages).
CALL_OVERHEAD = 4


@dataclass
class NewImage:
    data: bytes
    mime: str
    width: int | None
    height: int | None
    tokens: int

    def block(self) -> dict:
        return {"mime": self.mime, "data": base64.b64encode(self.data).decode("ascii")}


@dataclass
class ToolRun:
    """The loop's settings for one reply (read by chatthy/server/tool_loop.py)."""

    daemon: Daemon
    profile: Any
    chat: Any
    tools: dict[str, Any]
    counter: Any
    max_rounds: int
    max_result_tokens: int
    approval_timeout: float
    room: int  # tokens the tool traffic may still take in the context window
    audience: Any = None  # who sees tool events and answers approvals (the generation by default)


@dataclass
class ToolPlan:
    daemon: Daemon
    provider_cfg: Any
    counter: Any
    tools: list = field(default_factory=list)
    definition_tokens: int = 0
    images: list[NewImage] = field(default_factory=list)
    choice: list[str] | None = None  # an explicit choice, remembered for the chat
    user_message_id: int | None = None  # the question the reply answers (set by start_reply)
    missing: dict | None = None  # a stored choice's tools that are gone: the tools_missing event

    @property
    def image_tokens(self) -> int:
        return sum(i.tokens for i in self.images)

    def fixed_parts(self) -> list[FixedPart]:
        from chatthy.context import FixedPart

        if not self.tools:
            return []
        names = ", ".join(t.spec.name for t in self.tools)
        return [FixedPart(f"tools: {names}", "", self.definition_tokens)]

    def save(self, store, chat_id: int, user_message_id: int) -> None:
        """Inside the ask's transaction: store the images with the question, remember the tool choice."""
        from chatthy.tools import storage

        if self.images:
            ids = [storage.store_image(store.conn, i.data, i.mime, i.width, i.height) for i in self.images]
            storage.link(store.conn, user_message_id, ids, [None] * len(ids))
        if self.choice is not None:
            storage.set_chat_tools(store.conn, chat_id, self.choice)
        self.user_message_id = user_message_id

    def shape(self, request: ChatRequest, history: list[HistoryMessage]) -> ChatRequest:
        """``request`` with the history replayed in full (tool rounds, images) and the tools."""
        messages = history_messages(self.daemon, history, vision=self.provider_cfg.vision,
                                    native_tools=bool(self.tools))
        last = dict(request.messages[-1]) if request.messages else None
        if last is not None and last.get("role") == "user":
            blocks = [i.block() for i in self.images] or self._answered_images()
            if blocks:
                last["images"] = blocks
            messages.append(last)
        return replace(request, messages=messages, tools=[t.spec.for_request() for t in self.tools])

    def _answered_images(self) -> list[dict]:
        """Images of the question being answered again (retry, edit)."""
        from chatthy.tools.storage import attachments_of

        if self.user_message_id is None or not self.provider_cfg.vision:
            return []
        found = attachments_of(self.daemon.store.conn, [self.user_message_id], with_data=True)
        return [{"mime": a.mime, "data": base64.b64encode(data).decode("ascii")}
                for a, data in found.get(self.user_message_id, [])]

    def announce(self, gen) -> None:
        """When the reply starts: say once (log line, event before any text) which stored tools are gone."""
        if self.missing is None:
            return
        log.warning("chat %r: %s", gen.chat_name, self.missing["message"])
        gen.add_event(dict(self.missing))

    def run(self, profile, chat, assembled) -> ToolRun | None:
        if not self.tools:
            return None
        settings = self.daemon.config.tools
        return ToolRun(
            daemon=self.daemon, profile=profile, chat=chat, tools={t.spec.name: t for t in self.tools},
            counter=self.counter, max_rounds=settings.max_rounds, max_result_tokens=settings.max_result_tokens,
            approval_timeout=settings.approval_timeout, room=max(0, assembled.budget - assembled.used),
        )


@dataclass(frozen=True)
class StoredChoice:
    """The tool choice in force for a chat when the ask gives none, and where it comes from."""

    names: list[str] | None  # None: [tools] default
    source: str  # "chat", "personality" or "default"
    persona: str  # the chat's personality (the one the ask switches to, if it does)


def stored_choice(daemon: Daemon, profile, chat, persona_name: str | None = None) -> StoredChoice:
    """The chat's own choice, else its personality's tools, else ``[tools] default`` (``chat`` None: a new chat)."""
    from chatthy.server.personalities import DEFAULT, find_persona
    from chatthy.tools import storage

    name = persona_name or (chat.personality if chat is not None else None) or DEFAULT
    own = storage.chat_tools(daemon.store.conn, chat.id) if chat is not None else None
    if own is not None:
        return StoredChoice(own, "chat", name)
    persona = find_persona(daemon.store, profile, name)  # a missing one is refused by compose, later
    if persona is not None and persona.tools is not None:
        return StoredChoice(list(persona.tools), "personality", name)
    return StoredChoice(None, "default", name)


async def checked_choice(daemon: Daemon, names: list[str]) -> list[str]:
    """``names`` (repeats dropped) if they form a valid choice of tools the daemon has now; else BadRequest."""
    from chatthy.server.tool_runtime import runtime

    names = list(dict.fromkeys(name.strip() for name in names))
    await runtime(daemon).registry.select(names, None)
    return names


async def plan_tools(daemon: Daemon, profile, chat, params: dict, provider_cfg, counter) -> ToolPlan:
    """Check the images and select the tools of a reply; BadRequest/TooLarge before anything is written."""
    from chatthy.server.tool_runtime import runtime

    plan = ToolPlan(daemon, provider_cfg, counter)
    plan.images = check_images(daemon, params.get("attachments") or [], provider_cfg)
    requested = list(params.get("tools") or [])
    stored = None if requested else stored_choice(daemon, profile, chat, params.get("persona"))
    if stored is not None and stored.names is None and not daemon.config.tools.default:
        return plan  # no tools anywhere: nothing to start
    registry = runtime(daemon).registry
    choice = None
    if stored is not None and stored.names is not None:
        choice = await _without_missing(daemon, plan, stored, chat)
    plan.tools = await registry.select(requested or None, choice)
    if requested:
        plan.choice = requested
    if plan.tools:
        definitions = json.dumps([t.spec.for_request() for t in plan.tools], ensure_ascii=False)
        plan.definition_tokens = counter.count(definitions) + CALL_OVERHEAD * len(plan.tools)
    return plan


async def _without_missing(daemon: Daemon, plan: ToolPlan, stored: StoredChoice, chat) -> list[str]:
    """A stored choice without the tools that are gone; ``plan.missing`` says which (see the module doc)."""
    from chatthy.server.tool_runtime import runtime
    from chatthy.tools.registry import ALL, NONE
    from chatthy.tools.settings import BUILTIN_NAMES

    names = [n for n in stored.names if n not in (ALL, NONE)]
    local = set(BUILTIN_NAMES) | set(daemon.config.tools.user)
    if all(n in local for n in names):  # no need to wait for MCP servers
        return stored.names
    available = await runtime(daemon).registry.tools()
    missing = [n for n in names if n not in available]
    if not missing:
        return stored.names
    listed = ", ".join(repr(n) for n in missing)
    many = len(missing) > 1
    if stored.source == "chat":
        whose = f"chat {chat.name!r}"
        fix = f"`chatthy tools set -c {chat.name} …`"
    else:
        whose = f"personality {stored.persona!r}"
        fix = f"`chatthy persona set {stored.persona} --tools …`"
    message = (f"{whose} names tool{'s' * many} {listed}, which the daemon does not have now "
               f"(see `chatthy tools list`; change it with {fix}); replying without {'them' if many else 'it'}")
    plan.missing = {"kind": "tools_missing", "tools": missing, "source": stored.source, "message": message}
    return [n for n in stored.names if n not in missing]


def check_images(daemon: Daemon, encoded: list[str], provider_cfg) -> list[NewImage]:
    from chatthy.tools.image_files import check_image, decode_base64, estimate_tokens

    if not encoded:
        return []
    limits = daemon.config.images
    if not provider_cfg.vision:
        raise BadRequest(f"provider {provider_cfg.name!r} is configured as text-only (vision = false): "
                         "it cannot take images; use another provider (-p) or set vision = true")
    if len(encoded) > limits.max_per_message:
        raise BadRequest(f"{len(encoded)} images attached; at most {limits.max_per_message} per message "
                         "([images] max_per_message)")
    images = []
    for n, text in enumerate(encoded, 1):
        name = f"image {n}"
        data = decode_base64(text, name=name)
        info = check_image(data, name=name, max_bytes=limits.max_bytes)
        tokens = estimate_tokens(info.width, info.height, provider_cfg.kind)
        images.append(NewImage(data, info.mime, info.width, info.height, tokens))
    return images


def history_messages(daemon: Daemon, history: list[HistoryMessage], *, vision: bool,
                     native_tools: bool) -> list[dict]:
    """Neutral messages for the kept history (see the module doc)."""
    from chatthy.tools.storage import attachments_of, calls_of_messages

    conn = daemon.store.conn
    images = attachments_of(conn, [m.id for m in history if m.role == "user"], with_data=vision)
    calls = calls_of_messages(conn, [m.id for m in history
                                     if m.role == "assistant" and (m.meta or {}).get("tool_rounds")])
    out: list[dict] = []
    seen_ids: set[str] = set()
    for m in history:
        if m.role == "user" and m.id in images:
            out.append(_user_with_images(m.content, images[m.id], vision))
        elif m.role == "assistant" and m.id in calls:
            rounds = (m.meta or {}).get("tool_rounds") or []
            if native_tools:
                out.extend(_replay_rounds(m.content, rounds, calls[m.id], seen_ids))
            else:
                out.append({"role": "assistant", "content": _flatten_rounds(m.content, calls[m.id])})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def _user_with_images(content: str, found: list[tuple], vision: bool) -> dict:
    if vision:
        return {"role": "user", "content": content,
                "images": [{"mime": a.mime, "data": base64.b64encode(data).decode("ascii")} for a, data in found]}
    notes = " ".join(f"[image {a.name or a.sha256[:12]} ({a.mime}) not sent: this model takes no images]"
                     for a, _ in found)
    return {"role": "user", "content": f"{notes}\n\n{content}" if content else notes}


NOT_RUN = {
    "skipped": "not run: the limit of tool rounds per reply was reached",
    "refused": "not run: the user did not approve it",
    "cancelled": "not run: the reply was stopped",
    "running": "not run: the reply was stopped",
}


def call_result_text(call) -> str:
    """What the model was told for a call (or is told now, for one that never finished)."""
    if call.result is not None:
        return call.result
    return NOT_RUN.get(call.status, f"error: {call.error or call.status}")


def _replay_rounds(content: str, rounds: list[dict], calls: list, seen_ids: set[str]) -> list[dict]:
    by_round: dict[int, list] = {}
    for call in calls:
        by_round.setdefault(call.round, []).append(call)
    out: list[dict] = []
    pos = 0
    for index, info in enumerate(rounds):
        end = max(pos, min(int(info.get("end", pos)), len(content)))
        text, pos = content[pos:end].strip(), end
        round_calls = by_round.get(index, [])
        if not round_calls:
            if text:
                out.append({"role": "assistant", "content": text})
            continue
        ids = []
        for call in round_calls:
            # Ids must be unique in a request; a model (or a fake) may repeat them across replies.
            call_id = call.call_id if call.call_id and call.call_id not in seen_ids else f"call_{call.id}"
            seen_ids.add(call_id)
            ids.append(call_id)
        out.append({"role": "assistant", "content": text, "tool_calls": [
            {"id": cid, "name": c.name, "arguments": c.arguments} for cid, c in zip(ids, round_calls)]})
        for cid, call in zip(ids, round_calls):
            out.append({"role": "tool", "tool_call_id": cid, "content": call_result_text(call),
                        "is_error": call.status != "ok"})
    rest = content[pos:].strip()
    if rest:
        out.append({"role": "assistant", "content": rest})
    return out


def _flatten_rounds(content: str, calls: list) -> str:
    lines = []
    for call in calls:
        args = json.dumps(call.arguments, ensure_ascii=False)
        result = call_result_text(call)
        if len(result) > 2000:
            result = result[:2000] + " […]"
        lines.append(f"[tool {call.name}({args}) → {result}]")
    return "\n".join(lines) + ("\n\n" + content if content else "")
