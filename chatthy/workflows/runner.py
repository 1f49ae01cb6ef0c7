"""Running workflows in the daemon: steps, loops, progress events, results saved into a chat.

A run belongs to the daemon, not to the client that started it: it is a task
of the daemon's task group, so a client that goes away (or detaches with
Ctrl-C) leaves it running, and any client can follow it from its first event
(``run.attach``). Prompt and template steps are asked in the run's chat like
``chatthy ask`` would (the same planning, tools, budget and generation: they
go through ``chatthy.server.reply``), so the chat ends up holding every
prompt and reply; tool steps add their output to the chat as well. Runs are
recorded in ``workflow_runs`` (status, inputs, outputs) for ``run list``.

Events (in order, ``event`` frames of ``run`` / ``run.attach``)::

    {"kind": "run_start", "run", "workflow", "chat", "steps"}
    {"kind": "step", "step", "status": "start", "round"?, "max"?}
    {"kind": "step", "step", "status": "done", "round"?, "output", "duration_ms"}
    {"kind": "loop", "step", "rounds", "met", "condition"}
    ... and the tool events of chatthy/server/tool_loop.py (approvals are answered here)
"""

from __future__ import annotations

import json
import logging
import time
import uuid
import weakref
from collections import OrderedDict
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import anyio

from chatthy.errors import BadRequest, Cancelled, ChatthyError, InternalError, NotFound
from chatthy.store.models import now_iso
from chatthy.workflows.definition import Step, Workflow

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon

log = logging.getLogger("chatthy.workflows")

KEEP_FINISHED = 64


class WorkflowRun:
    def __init__(self, workflow: Workflow, profile, chat, run_input: str, variables: dict[str, str],
                 overrides: dict[str, str | None]) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.workflow = workflow
        self.profile = profile
        self.chat = chat
        self.input = run_input
        self.variables = variables
        self.overrides = overrides  # provider/model given to `chatthy run`
        self.status = "running"
        self.error: dict | None = None
        self.outputs: dict[str, str] = {}
        self.loops: dict[str, dict] = {}
        self.result: str | None = None
        self.step: str | None = None
        self.events: list[dict] = []
        self.followers = 0
        self.created = now_iso()
        self.finished = anyio.Event()
        self.generation = None
        self._changed = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._cancel_requested = False

    def add_event(self, data: dict) -> None:
        self.events.append(data)
        self._changed.set()
        self._changed = anyio.Event()

    def cancel(self) -> None:
        self._cancel_requested = True
        if self.generation is not None:
            self.generation.cancel()
        if self._scope is not None:
            self._scope.cancel()

    def summary(self) -> dict[str, Any]:
        return {"run": self.id, "workflow": self.workflow.name, "chat": self.chat.name, "status": self.status,
                "step": self.step, "created": self.created}

    def end_data(self) -> dict[str, Any]:
        return {**self.summary(), "result": self.result, "outputs": dict(self.outputs), "loops": dict(self.loops),
                "error": self.error}

    async def follow(self, send: Callable[[dict, int], Awaitable[None]]) -> dict:
        """Send every event from the first, as they come; return the end data."""
        seq = 0
        self.followers += 1
        try:
            while True:
                changed = self._changed
                while seq < len(self.events):
                    await send(self.events[seq], seq)
                    seq += 1
                if self.finished.is_set():
                    return self.end_data()
                await changed.wait()
        finally:
            self.followers -= 1


class _StepContext:
    """What ``start_reply`` needs of a request, for a reply asked by a run (no client behind it)."""

    def __init__(self, daemon: Daemon, run: WorkflowRun) -> None:
        self.daemon = daemon
        self.run = run
        self.running = SimpleNamespace(generation=None)

    async def event(self, data: dict, seq: int) -> None:
        if data.get("kind") == "start":
            gen = self.running.generation
            self.run.generation = gen
            if gen is not None and gen.tool_run is not None:
                gen.tool_run.audience = self.run  # the run's followers see the tools and approve them

    async def chunk(self, data: dict, seq: int) -> None:
        pass


class WorkflowHub:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.active: dict[str, WorkflowRun] = {}
        self.finished: OrderedDict[str, WorkflowRun] = OrderedDict()
        cur = daemon.store.conn.execute(
            "UPDATE workflow_runs SET status = 'error', error = ?, finished = ? WHERE status = 'running'",
            ("interrupted: the daemon stopped during the run", now_iso()))
        if cur.rowcount:
            log.info("marked %d workflow run(s) of a previous daemon as interrupted", cur.rowcount)

    def get(self, run_id: str) -> WorkflowRun | None:
        return self.active.get(run_id) or self.finished.get(run_id)

    def start(self, run: WorkflowRun) -> None:
        self.daemon.store.conn.execute(
            "INSERT INTO workflow_runs (id, profile_id, workflow, chat_id, status, inputs, created)"
            " VALUES (?, ?, ?, ?, 'running', ?, ?)",
            (run.id, run.profile.id, run.workflow.name, run.chat.id,
             json.dumps({"input": run.input, "vars": run.variables, **run.overrides}, ensure_ascii=False),
             run.created))
        self.active[run.id] = run
        run.add_event({"kind": "run_start", "run": run.id, "workflow": run.workflow.name, "chat": run.chat.name,
                       "steps": [s.to_dict() for s in run.workflow.steps]})
        self.daemon.task_group.start_soon(self._run, run)

    async def _run(self, run: WorkflowRun) -> None:
        try:
            with anyio.CancelScope() as scope:
                run._scope = scope
                await self._execute(run)
            if scope.cancelled_caught:
                run.status = "cancelled"
                run.error = Cancelled("the run was cancelled" if run._cancel_requested
                                      else "the daemon stopped during the run").to_wire()
            else:
                run.status = "complete"
        except ChatthyError as exc:
            run.status, run.error = "error", exc.to_wire()
        except Exception as exc:  # a bug in a step must not take the daemon down
            log.exception("workflow run %s failed", run.id)
            run.status, run.error = "error", InternalError(f"{type(exc).__name__}: {exc}").to_wire()
        finally:
            if run.status == "running":  # the daemon is stopping: its task group was cancelled
                run.status = "cancelled"
                run.error = Cancelled("the daemon stopped during the run").to_wire()
            with anyio.CancelScope(shield=True):
                self._finish(run)

    def _finish(self, run: WorkflowRun) -> None:
        try:
            self.daemon.store.conn.execute(
                "UPDATE workflow_runs SET status = ?, outputs = ?, error = ?, finished = ? WHERE id = ?",
                (run.status, json.dumps({"result": run.result, "steps": run.outputs, "loops": run.loops},
                                        ensure_ascii=False),
                 run.error["message"] if run.error else None, now_iso(), run.id))
        except Exception:
            log.exception("could not save the end of workflow run %s", run.id)
        self.active.pop(run.id, None)
        self.finished[run.id] = run
        while len(self.finished) > KEEP_FINISHED:
            self.finished.popitem(last=False)
        run.finished.set()
        run.add_event({"kind": "run_end", "run": run.id, "status": run.status})

    # -- steps -------------------------------------------------------------

    async def _execute(self, run: WorkflowRun) -> None:
        wf = run.workflow
        values = {**wf.defaults, **run.variables, "input": run.input}
        last = ""
        for step in wf.steps:
            last = await self._loop(run, step, values) if step.loops else await self._single(run, step, values)
        run.result = values.get(wf.result, last) if wf.result else last

    async def _loop(self, run: WorkflowRun, step: Step, values: dict) -> str:
        check = step.check or (step.steps[-1].name if step.steps else step.name)
        met, output, rounds = False, "", 0
        for rounds in range(1, step.max + 1):
            values["round"] = str(rounds)
            for sub in step.steps or (step,):
                output = await self._single(run, sub, values, rounds, step.max)
                if sub.name == check and step.met(output):
                    met = True
                    break
            if met:
                break
        values.pop("round", None)
        if step.steps:
            values[step.name] = output
        run.loops[step.name] = {"rounds": rounds, "met": met}
        run.add_event({"kind": "loop", "step": step.name, "rounds": rounds, "met": met,
                       "condition": step.condition(), "conditional": step.until is not None
                       or step.until_regex is not None})
        return output

    async def _single(self, run: WorkflowRun, step: Step, values: dict, round_no: int | None = None,
                      rounds: int | None = None) -> str:
        run.step = step.name
        where = {"step": step.name, **({"round": round_no, "max": rounds} if round_no else {})}
        run.add_event({"kind": "step", "status": "start", **where})
        started = time.monotonic()
        try:
            if step.kind == "tool":
                output = await self._tool_step(run, step, values)
            else:
                output = await self._prompt_step(run, step, values)
        except ChatthyError as exc:
            if exc.message.startswith("step "):
                raise
            raise type(exc)(f"step {step.name!r}: {exc.message}", data=exc.data) from exc
        values[step.name] = output
        if step.output:
            values[step.output] = output
        run.outputs[step.name] = output
        if step.output:
            run.outputs[step.output] = output
        run.add_event({"kind": "step", "status": "done", **where, "output": output,
                       "duration_ms": int((time.monotonic() - started) * 1000)})
        return output

    async def _tool_step(self, run: WorkflowRun, step: Step, values: dict) -> str:
        from chatthy.server.tool_runtime import runtime
        from chatthy.tools.registry import ToolContext, ToolError, check_arguments

        d = self.daemon
        rt = runtime(d)
        tool = (await rt.registry.tools()).get(step.tool)
        if tool is None:
            raise NotFound(f"step {step.name!r}: there is no tool {step.tool!r} (see `chatthy tools list`)")
        args = _fill_value(step.args, values, step.name)
        try:
            check_arguments(tool.spec, args)
            from chatthy.tools import storage

            if tool.spec.confirm and not storage.always_approved(d.store.conn, run.chat.id, tool.spec.name):
                answer, why = await rt.approvals.ask(run, tool=tool.spec.name, arguments=args, chat_id=run.chat.id,
                                                     timeout=d.config.tools.approval_timeout, tool_call_id=step.name)
                if answer == "no":
                    raise BadRequest(f"step {step.name!r}: {tool.spec.name} was not approved: {why}")
                if answer == "always":
                    storage.approve_always(d.store.conn, run.chat.id, tool.spec.name)
            result = await tool.run(args, ToolContext(d, run.profile, run.chat))
        except ToolError as exc:
            raise BadRequest(f"step {step.name!r}: {tool.spec.name} failed: {exc}") from None
        if result.is_error:
            raise BadRequest(f"step {step.name!r}: {tool.spec.name} failed: {result.text}")
        counter = d.token_counter(*_default_model(d))
        d.store.add_message(run.chat.id, "assistant", result.text, tokens=counter.count_message("assistant", result.text),
                            meta={"workflow": {"run": run.id, "step": step.name, "tool": tool.spec.name,
                                               "arguments": args}})
        return result.text

    async def _prompt_step(self, run: WorkflowRun, step: Step, values: dict) -> str:
        from chatthy.server.reply import ask_params, plan_reply, start_reply

        d = self.daemon
        store = d.store
        wf = run.workflow
        system, provider, model = step.system, step.provider, step.model
        if step.kind == "template":
            from chatthy import templates

            template = templates.load(step.template, d.paths.config_dir)
            text_in = _fill(step.input, values, step.name)
            variables = {k: values[k] for k in template.variables if k in values}
            prompt = templates.render(template, input=text_in if template.takes_input else None,
                                      variables=variables)
            system = system or template.system
            provider, model = provider or template.provider, model or template.model
        else:
            prompt = _fill(step.prompt or "", values, step.name)
        system = _fill(system, values, step.name) if system else (_fill(wf.system, values, step.name)
                                                                   if wf.system else None)
        params = ask_params(
            profile=run.profile.name, chat=run.chat.name, prompt=prompt,
            provider=provider or run.overrides.get("provider") or wf.provider,
            model=model or run.overrides.get("model") or wf.model,
            system=system, tools=list(step.tools if step.tools is not None else wf.tools) or None,
        )
        rows = store.messages(run.chat.id) if step.history else []
        plan = await plan_reply(d, run.profile, run.chat, params, rows, prompt)
        with store.transaction():
            user = store.add_message(run.chat.id, "user", prompt, tokens=plan.input_tokens,
                                     meta={"workflow": {"run": run.id, "step": step.name,
                                                        "round": values.get("round")}})
            plan.tools.save(store, run.chat.id, user.id)
            reply = store.add_message(run.chat.id, "assistant", "", status="partial",
                                      provider=plan.provider_cfg.name, model=plan.model)
        ctx = _StepContext(d, run)
        end = await start_reply(ctx, plan, run.chat, user, reply)
        run.generation = None
        if end.get("status") != "complete":
            from chatthy.errors import errors_for_status

            err = errors_for_status(end) or InternalError(f"step {step.name!r} ended with {end.get('status')}")
            raise type(err)(f"step {step.name!r}: {err.message}", data=err.data)
        gen = ctx.running.generation
        return gen.text if gen is not None else ""


def _default_model(d) -> tuple[str, str]:
    cfg = d.config.provider(None)
    return cfg.model, cfg.kind


def _fill(text: str, values: dict, step: str) -> str:
    """``{{name}}`` placeholders filled in one pass (chatthy.templates' rules); a missing value is an error."""
    from chatthy import templates

    names = templates.placeholders(text)
    missing = [n for n in names if n not in values]
    if missing:
        raise BadRequest(f"step {step!r}: {{{{{missing[0]}}}}} has no value yet (give -v {missing[0]}=… "
                         "or name a step that runs before it)")
    if templates.INPUT in names and not values[templates.INPUT].strip():
        raise BadRequest(f"step {step!r} uses {{{{input}}}}, and the run has none: give --input FILE, "
                         "--input - (stdin), or words after the workflow's name")
    if not names:
        return text
    template = templates.Template(name=step, body=text, origin="workflow")
    variables = {n: values[n] for n in names if n != templates.INPUT}
    return templates.render(template, input=values.get(templates.INPUT) if template.takes_input else None,
                            variables=variables)


def _fill_value(value: Any, values: dict, step: str) -> Any:
    if isinstance(value, str):
        return _fill(value, values, step)
    if isinstance(value, dict):
        return {k: _fill_value(v, values, step) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_value(v, values, step) for v in value]
    return value


_hubs: "weakref.WeakKeyDictionary[Any, WorkflowHub]" = weakref.WeakKeyDictionary()


def hub_for(daemon: Daemon) -> WorkflowHub:
    hub = _hubs.get(daemon)
    if hub is None:
        hub = _hubs[daemon] = WorkflowHub(daemon)
    return hub
