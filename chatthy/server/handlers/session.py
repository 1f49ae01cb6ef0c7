"""hello, daemon.status, daemon.stop."""

from __future__ import annotations

import os
import time

import anyio

from chatthy import __version__
from chatthy.server.params import Str
from chatthy.server.registry import method
from chatthy.wire.limits import PROTOCOL_VERSION


@method("hello", client_version=Str(max=64))
async def hello(ctx, p):
    d = ctx.daemon
    return {
        "version": __version__,
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "daemon_key": d.signer.public_key,
    }


@method("daemon.status")
async def status(ctx, p):
    d = ctx.daemon
    return {
        "version": __version__,
        "pid": os.getpid(),
        "uptime": round(time.time() - d.started, 3),
        "socket": str(d.paths.socket),
        "database": str(d.paths.database),
        "log": str(d.paths.log_file),
        "connections": len(d.connections),
        "generations": [g.summary() for g in d.generations.active.values()],
        "open_chats": _open_chats(d),
        "socket_activated": getattr(d, "socket_activated", False),
        "protocol": PROTOCOL_VERSION,
        "vec_loaded": d.store.vec_loaded,
        "provider_workers": d.workers.describe() if d.workers is not None else [],
    }


def _open_chats(d) -> list[dict]:
    """Chats a client is watching or a reply is being written into, by name."""
    watching = {chat_id: len(queues) for chat_id, queues in d.watchers.items() if queues}
    replying = {g.chat_id for g in d.generations.active.values()}
    out = []
    for chat_id in sorted(set(watching) | replying):
        chat = d.store.get_chat_by_id(chat_id)
        if chat is not None:
            out.append({"chat": chat.name, "watchers": watching.get(chat_id, 0), "replying": chat_id in replying})
    return out


@method("daemon.stop")
async def stop(ctx, p):
    async def soon() -> None:
        await anyio.sleep(0.05)  # let this reply leave first
        ctx.daemon.stopping.set()

    ctx.daemon.task_group.start_soon(soon)
    return {"stopping": True, "pid": os.getpid()}
