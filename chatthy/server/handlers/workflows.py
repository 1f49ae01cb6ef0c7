"""run (start a workflow and follow it), run.attach, run.list, run.cancel, workflow.list."""

from __future__ import annotations

import json
import time

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.server.lookup import profile_of
from chatthy.server.params import Dict, Int, Name, Str, Text
from chatthy.server.registry import method
from chatthy.workflows import definition
from chatthy.workflows.runner import WorkflowRun, hub_for


def _run_chat(d, profile, name: str | None, workflow: str):
    store = d.store
    if name:
        chat = store.get_chat(profile.id, name)
        if chat is not None:
            if d.generations.for_chat(chat.id) is not None:
                raise d.generations.busy_error(chat.name)
            return chat
        return store.create_chat(profile.id, name)
    base = f"run-{workflow}-{time.strftime('%Y%m%d-%H%M%S')}"
    name, n = base, 2
    while store.get_chat(profile.id, name) is not None:
        name, n = f"{base}-{n}", n + 1
    return store.create_chat(profile.id, name)


def _variables(workflow, given: dict) -> dict[str, str]:
    out = {}
    known = workflow.variables() | set(workflow.defaults)
    for key, value in given.items():
        if key not in known:
            raise BadRequest(f"workflow {workflow.name!r} has no variable {key!r} "
                             f"(its variables: {', '.join(sorted(known)) or 'none'})")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise BadRequest(f"variable {key!r} must be text")
        out[key] = str(value)
    missing = sorted(workflow.variables() - set(workflow.defaults) - set(out))
    if missing:
        raise BadRequest(f"workflow {workflow.name!r} needs {', '.join(missing)}: give "
                         + " ".join(f"-v {m}=…" for m in missing))
    return out


@method("run", streaming=True, profile=Name(), workflow=Str(required=True, max=64), input=Text(default=""),
        vars=Dict(default=None), chat=Name(), provider=Name(), model=Str(max=200))
async def run(ctx, p):
    """Start a workflow run in the daemon and follow its progress (it outlives this request)."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    workflow = definition.load(p["workflow"], d.paths.config_dir)
    variables = _variables(workflow, p["vars"] or {})
    if p["provider"]:
        d.config.provider(p["provider"])  # NotFound now, not in the middle of the run
    chat = _run_chat(d, profile, p["chat"], workflow.name)
    hub = hub_for(d)
    new = WorkflowRun(workflow, profile, chat, p["input"], variables,
                      {"provider": p["provider"], "model": p["model"]})
    hub.start(new)
    return await new.follow(ctx.event)


@method("run.attach", streaming=True, profile=Name(), run=Str(required=True, max=64))
async def attach(ctx, p):
    """Follow a run from its first event (it may have finished: then its result alone)."""
    d = ctx.daemon
    found = hub_for(d).get(p["run"])
    if found is not None:
        return await found.follow(ctx.event)
    return _stored(d, profile_of(d, p["profile"]), p["run"])


def _stored(d, profile, run_id: str) -> dict:
    row = d.store.conn.execute(
        "SELECT r.id, r.workflow, c.name, r.status, r.outputs, r.error, r.created, r.finished"
        " FROM workflow_runs r LEFT JOIN chats c ON c.id = r.chat_id WHERE r.id = ? AND r.profile_id = ?",
        (run_id, profile.id)).fetchone()
    if row is None:
        raise NotFound(f"no workflow run {run_id!r} (see `chatthy run list`)")
    run_id, workflow, chat, status, outputs, error, created, finished = row
    out = json.loads(outputs) if outputs else {}
    return {"run": run_id, "workflow": workflow, "chat": chat, "status": status, "step": None, "created": created,
            "finished": finished, "result": out.get("result"), "outputs": out.get("steps") or {},
            "loops": out.get("loops") or {},
            "error": {"code": "internal" if status == "error" else "cancelled", "message": error} if error else None}


@method("run.list", profile=Name(), limit=Int(default=20, min=1, max=1000))
async def run_list(ctx, p):
    """Recent runs of the profile, newest first."""
    d = ctx.daemon
    profile = profile_of(d, p["profile"])
    hub = hub_for(d)
    rows = d.store.conn.execute(
        "SELECT r.id, r.workflow, c.name, r.status, r.error, r.created, r.finished FROM workflow_runs r"
        " LEFT JOIN chats c ON c.id = r.chat_id WHERE r.profile_id = ? ORDER BY r.created DESC, r.rowid DESC"
        " LIMIT ?", (profile.id, p["limit"])).fetchall()
    out = []
    for run_id, workflow, chat, status, error, created, finished in rows:
        live = hub.active.get(run_id)
        out.append({"run": run_id, "workflow": workflow, "chat": chat, "status": status,
                    "step": live.step if live else None, "error": error, "created": created, "finished": finished})
    return out


@method("run.cancel", run=Str(required=True, max=64))
async def run_cancel(ctx, p):
    found = hub_for(ctx.daemon).active.get(p["run"])
    if found is None:
        raise Conflict(f"workflow run {p['run']!r} is not running")
    found.cancel()
    await found.finished.wait()
    return found.summary()


@method("workflow.list")
async def workflow_list(ctx, p):
    """The workflows a run may name (user files override built-ins), and broken files' problems."""
    workflows, problems = definition.list_all(ctx.daemon.paths.config_dir)
    return {"workflows": [w.to_dict() for w in workflows], "problems": problems,
            "folder": str(definition.user_dir(ctx.daemon.paths.config_dir))}
