"""How a reply's tool activity is shown and approved.

During ``ask`` (and ``run``), tool calls are shown on stderr, one line per
call once it has a result (``⚙ calculator(expression="6*7") → 42 · 2 ms``),
on a terminal; ``--verbose`` shows every call in full (arguments and result),
terminal or not. A tool configured with ``confirm = true`` asks before it
runs: on a terminal the question is put to the user (y/n/a); with ``-y`` the
answer is yes; otherwise (no terminal to ask) it is no.
"""

from __future__ import annotations

import sys

from chatthy.cli.output import color_enabled, echo, is_quiet, is_tty, neutralise, note, style
from chatthy.wire.json_codec import dumps

COLLAPSED_WIDTH = 100


def shorten(value, width: int) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def call_text(tool: str, arguments: dict, width: int = 60) -> str:
    args = ", ".join(f"{k}={dumps(v, ensure_ascii=False)}" for k, v in (arguments or {}).items())
    return f"{tool}({shorten(args, width)})"


def tool_choice(names: tuple[str, ...], mode: str | None) -> list[str] | None:
    """The ``tools`` parameter of an ask from ``-T NAME…`` / ``--tools all|none`` (None: the chat's)."""
    if names and mode:
        from chatthy.errors import BadRequest

        raise BadRequest("give -T NAME… or --tools all|none, not both")
    if mode:
        return [mode]
    return list(names) or None


def attachments_of(app, paths: tuple[str, ...]) -> list[str] | None:
    """Images read, checked and base64-encoded for an ask (``-a PATH``, REPL ``/image PATH``)."""
    if not paths:
        return None
    from chatthy import config
    from chatthy.tools.image_files import read_image_file

    limits = config.load(app.paths.config_file).images
    if len(paths) > limits.max_per_message:
        from chatthy.errors import BadRequest

        raise BadRequest(f"{len(paths)} images; at most {limits.max_per_message} per message ([images] max_per_message)")
    return [read_image_file(p, max_bytes=limits.max_bytes) for p in paths]


def result_line(call: dict, result: dict) -> str:
    """``⚙ tool(args) → outcome · N ms``: one finished call, collapsed (ask and the REPL show this)."""
    text = call_text(result.get("tool", "?"), call.get("arguments") or {})
    status, output = result.get("status"), shorten(result.get("result", ""), 40)
    outcome = output if status == "ok" else f"{status}: {output}"
    return shorten(f"⚙ {text} → {outcome} · {result.get('duration_ms', 0)} ms", COLLAPSED_WIDTH)


class ToolActivity:
    """Shows tool events and answers approval requests for one streaming reply."""

    def __init__(self, client, *, verbose: bool = False, approve: bool = False) -> None:
        self.client = client
        self.verbose = verbose
        self.approve = approve
        self.calls: dict[str, dict] = {}
        self.seen: set[tuple[str, str]] = set()

    def _err(self, text: str, at_line_start: bool = True) -> None:
        if not at_line_start and is_tty(sys.stdout) and is_tty(sys.stderr):
            text = "\n" + text  # the reply's line is still open on the same terminal
        echo(neutralise(text), err=True)

    def handle(self, data: dict, at_line_start: bool = True) -> None:
        kind = data.get("kind") if isinstance(data, dict) else None
        key = (str(kind), str(data.get("call_id"))) if isinstance(data, dict) else ("", "")
        if kind in ("tool_call", "tool_result", "approval", "approval_result", "tools_missing"):
            if key in self.seen:  # a resumed stream may send an event again
                return
            self.seen.add(key)
        if kind == "tool_call":
            self.calls[data["call_id"]] = data
            if self.verbose:
                import json  # indented: json's Python encoder, only for --verbose

                args = json.dumps(data.get("arguments") or {}, ensure_ascii=False, indent=2)
                self._err(f"⚙ {data.get('tool')} (round {data.get('round')}) {args}", at_line_start)
        elif kind == "tool_result":
            self._result(data, at_line_start)
        elif kind == "approval":
            self._approval(data, at_line_start)
        elif kind == "approval_result" and data.get("answer") == "no" and (self.verbose or is_tty(sys.stderr)):
            self._err(f"✗ {data.get('tool')} not run: {data.get('reason', 'refused')}", at_line_start)
        elif kind in ("tool_limit", "tools_missing") and not is_quiet():
            self._err(f"chatthy: {data.get('message')}", at_line_start)

    def _result(self, data: dict, at_line_start: bool) -> None:
        call = self.calls.get(data.get("call_id"), {})
        status = data.get("status")
        took = f" · {data.get('duration_ms', 0)} ms"
        if self.verbose:
            self._err(f"⚙ {data.get('tool')} → {status}{took}\n{data.get('result', '')}", at_line_start)
            return
        text = result_line(call, data)
        if is_tty(sys.stderr) and not is_quiet():
            styled = style(text, dim=True) if color_enabled(sys.stderr) else text
            if not at_line_start and is_tty(sys.stdout):
                styled = "\n" + styled
            echo(styled if color_enabled(sys.stderr) else neutralise(styled), err=True)

    def _approval(self, data: dict, at_line_start: bool) -> None:
        call = call_text(data.get("tool", "?"), data.get("arguments") or {}, 200)
        if self.approve:
            answer = "yes"
        elif is_tty(sys.stdin) and is_tty(sys.stderr):
            answer = self._ask(call, data, at_line_start)
        else:
            answer = "no"
            note(f"{data.get('tool')} needs approval and there is no terminal to ask: refused "
                 "(give -y to approve tools that ask)")
        try:
            self.client.call("tools.approve", call_id=data["call_id"], answer=answer)
        except Exception as exc:  # noqa: BLE001 - timed out meanwhile: the daemon already said no
            note(f"could not answer the approval: {getattr(exc, 'message', exc)}")

    def _ask(self, call: str, data: dict, at_line_start: bool) -> str:
        self._err(f"The model wants to run: {call}", at_line_start)
        while True:
            sys.stderr.write(f"Run it? [y]es / [n]o / [a]lways in this chat "
                             f"(no answer in {data.get('timeout', 0):g} s = no): ")
            sys.stderr.flush()
            try:
                reply = sys.stdin.readline()
            except KeyboardInterrupt:
                return "no"
            if not reply:  # end of input
                return "no"
            choice = (reply.strip().lower() or "n")[:1]
            if choice in ("y", "n", "a"):
                return {"y": "yes", "n": "no", "a": "always"}[choice]


