"""One client connection: read a frame, verify it, dispatch it.

Every frame is verified (signature, authorised key, timestamp, nonce) by the
channel before anything here looks at it. Requests run as tasks of the
connection, so one slow request never blocks the next; the work they start
that must outlive the connection (generations) belongs to the daemon.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from chatthy.errors import Busy, ChatthyError, InternalError
from chatthy.server import registry
from chatthy.wire.errors import ConnectionClosed, WireError

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon
    from chatthy.server.generation import Generation
    from chatthy.wire.channel_async import AsyncChannel

log = logging.getLogger("chatthy.server")

MAX_REQUESTS_PER_CONNECTION = 64


@dataclass
class Running:
    """A request in progress: what a ``cancel`` frame for its id must stop."""

    scope: anyio.CancelScope
    generation: Generation | None = None


@dataclass
class RequestContext:
    daemon: Daemon
    connection: Connection
    request_id: str
    running: Running

    async def chunk(self, data: Any, seq: int) -> None:
        await self.connection.channel.send("chunk", self.request_id, seq=seq, data=data)

    async def event(self, data: Any, seq: int) -> None:
        await self.connection.channel.send("event", self.request_id, seq=seq, data=data)


class Connection:
    def __init__(self, daemon: Daemon, channel: AsyncChannel, peer: str) -> None:
        self.daemon = daemon
        self.channel = channel
        self.peer = peer
        # False for TCP connections: counted apart (see Daemon._handle), and not trusted to make
        # the daemon fetch non-public addresses (chatthy.sources.address_policy).
        self.local = True
        self.running: dict[str, Running] = {}

    async def serve(self) -> None:
        async with anyio.create_task_group() as tg:
            try:
                while True:
                    env = await self.channel.receive()
                    if env.type == "request":
                        if env.id in self.running:
                            await self._send_error(env.id, Busy(f"request id {env.id!r} is already running"))
                        elif len(self.running) >= MAX_REQUESTS_PER_CONNECTION:
                            await self._send_error(env.id, Busy(
                                f"more than {MAX_REQUESTS_PER_CONNECTION} requests in flight on one connection"))
                        else:
                            running = Running(anyio.CancelScope())
                            self.running[env.id] = running
                            tg.start_soon(self._dispatch, env, running)
                    elif env.type == "cancel":
                        self.cancel(env.id)
                    else:
                        await self._send_error(env.id, ChatthyError(f"unexpected {env.type!r} frame from a client"))
            except ConnectionClosed:
                pass
            except WireError as exc:
                who = f" (key {self.channel.peer_key[:16]}…)" if self.channel.peer_key else ""
                log.warning("%s%s: refused frame (%s): %s; closing", self.peer, who, exc.code, exc)
                await self._send_error("-", exc)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            except TimeoutError:
                log.warning("%s: no frame within the first-frame timeout; closing", self.peer)
            finally:
                if self.channel.cut_off:  # a peer that stopped reading
                    log.warning("%s: %s", self.peer, self.channel.cut_off)
                # Requests die with the connection; generations they started do not.
                tg.cancel_scope.cancel()

    def cancel(self, request_id: str) -> None:
        running = self.running.get(request_id)
        if running is None:
            return
        if running.generation is not None:
            # Ctrl-C on an ask stops the generation itself; the follow loop then
            # sends the closing frame with status "cancelled".
            running.generation.cancel()
        else:
            running.scope.cancel()

    async def _dispatch(self, env, running: Running) -> None:
        ctx = RequestContext(self.daemon, self, env.id, running)
        try:
            with running.scope:
                try:
                    method = registry.lookup(env.method)
                    params = method.validate(env.params or {})
                    with self._stream_slot(method.streaming):
                        result = await method.func(ctx, params)
                    await self.channel.send("end", env.id, data=result)
                except ChatthyError as exc:
                    await self._send_error(env.id, exc)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError, ConnectionError):
                    pass  # the client went away; nothing to tell it
                except Exception as exc:  # a bug: keep the daemon up, tell the client where to look
                    log.exception("%s: %s failed", self.peer, env.method)
                    await self._send_error(env.id, InternalError(
                        f"internal error in {env.method}: {type(exc).__name__}: {exc} "
                        f"(details in {self.daemon.paths.log_file})"))
            if running.scope.cancelled_caught:
                from chatthy.errors import Cancelled

                await self._send_error(env.id, Cancelled(f"{env.method} cancelled"))
        finally:
            self.running.pop(env.id, None)

    @contextlib.contextmanager
    def _stream_slot(self, streaming: bool) -> Iterator[None]:
        """Count a streaming request against its client key's limit while it runs.

        Per key, not per connection: a client could open many connections, and
        a key is what a remote client is.
        """
        if not streaming:
            yield
            return
        counts = self.daemon.streams_by_key
        key = self.channel.peer_key or "-"
        limit = self.daemon.config.max_streams_per_client
        if counts[key] >= limit:
            log.warning("%s: refused a stream: %d in flight for this key (max_streams_per_client)",
                        self.peer, counts[key])
            raise Busy(f"more than {limit} streaming requests in flight for this client key; "
                       "wait for some to finish (or raise [daemon] max_streams_per_client)")
        counts[key] += 1
        try:
            yield
        finally:
            counts[key] -= 1
            if not counts[key]:
                del counts[key]

    async def _send_error(self, request_id: str, exc: ChatthyError | WireError) -> None:
        payload = exc.to_wire() if isinstance(exc, ChatthyError) else {"code": exc.code, "message": str(exc)}
        try:
            await self.channel.send("error", request_id, data=payload)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        except WireError:
            pass  # e.g. a TCP peer that never identified itself: nothing can be encrypted to it
