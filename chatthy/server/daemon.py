"""The daemon process: start-up, accept loop, shutdown.

Start-up order matters: the pid-file lock first (two daemons on one state dir
would both write the database), then the socket (refuses if a live daemon
answers there), then the database. SIGTERM/SIGINT stop accepting, give replies
in flight a few seconds, mark the rest, and close the database cleanly.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import logging.handlers
import os
import signal
import socket
import sys
import time
from collections import defaultdict

import anyio
import anyio.abc

from chatthy import __version__
from chatthy import config as config_mod
from chatthy.errors import ChatthyError, Conflict
from chatthy.paths import Paths, ensure_private_dir, resolve
from chatthy.server.connection import Connection
from chatthy.server.generation import GenerationHub
from chatthy.server.listener import bind_tcp, bind_unix, describe_tcp, peer_uid
from chatthy.wire.box import BoxCache, FrameCipher
from chatthy.wire.channel_async import AsyncChannel
from chatthy.wire.keys import AuthorizedKeys, ensure_local_keys
from chatthy.wire.limits import DEFAULT_LIMITS
from chatthy.wire.replay import ReplayCache
from chatthy.wire.signing import Signer, Verifier

log = logging.getLogger("chatthy.server")

SHUTDOWN_GRACE = 5.0
EVENT_QUEUE = 1024  # per watcher: a watcher that falls this far behind is dropped


class Daemon:
    def __init__(self, paths: Paths, config: config_mod.Config, store, keys) -> None:
        from chatthy.llm import ProviderRegistry

        self.paths = paths
        self.config = config
        self.store = store
        self.keys = keys
        self.signer = Signer(keys.daemon)
        self.authorized = AuthorizedKeys(paths.config_dir / "authorized_keys")
        # One cache for every connection: a frame captured on one connection
        # must not be accepted when replayed on another.
        self.replay = ReplayCache(DEFAULT_LIMITS.ts_window_ms, DEFAULT_LIMITS.replay_cache_max)
        # TCP only: the Box with each client key, computed once per key.
        self.boxes = BoxCache(keys.daemon)
        # Streaming requests in flight per client key, across its connections.
        self.streams_by_key: dict[str, int] = defaultdict(int)
        # Provider streams run in worker processes (chatthy/llm/worker_link.py
        # says why); with provider_workers = 0, in this one.
        self.workers = None
        if config.provider_workers:
            from chatthy.server.provider_workers import WorkerPool

            default_kind = config.providers[config.default_provider].kind
            self.workers = WorkerPool(config.providers, config.provider_workers, preload=[default_kind])
            self.providers = ProviderRegistry(config.providers, make=self.workers.provider)
        else:
            self.providers = ProviderRegistry(config.providers)
        self.generations = GenerationHub(self)
        self.started = time.time()
        self.connections: set[Connection] = set()
        self.watchers: dict[int, set[anyio.abc.ObjectSendStream]] = defaultdict(set)
        self.stopping = anyio.Event()
        self.task_group: anyio.abc.TaskGroup
        self.counters: dict[str, int] = defaultdict(int)
        self._token_counters: dict[tuple[str, str], object] = {}

    def token_counter(self, model: str, kind: str):
        """One counter per (model, kind): encodings load once per process."""
        from chatthy.context import TokenCounter

        key = (model, kind)
        counter = self._token_counters.get(key)
        if counter is None:
            counter = self._token_counters[key] = TokenCounter(model, kind)
        return counter

    # -- live chats -------------------------------------------------------
    def publish(self, chat_id: int, event: dict) -> None:
        """Tell every client watching ``chat_id``; never blocks the publisher."""
        for queue in list(self.watchers.get(chat_id, ())):
            try:
                queue.send_nowait(event)
            except anyio.WouldBlock:
                log.warning("dropping a watcher of chat %s that stopped reading", chat_id)
                queue.close()
                self.watchers[chat_id].discard(queue)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self.watchers[chat_id].discard(queue)

    # -- serving ------------------------------------------------------------
    async def serve(self, sockets: list[socket.socket]) -> None:
        listeners = [await anyio.abc.SocketListener.from_socket(s) for s in sockets]
        async with anyio.create_task_group() as tg:
            self.task_group = tg
            if self.workers is not None:
                tg.start_soon(self._start_workers)
            tg.start_soon(self._signals)
            tg.start_soon(self._warm_up)
            for listener in listeners:
                tg.start_soon(self._accept, listener)
            log.info("chatthy %s daemon ready (pid %d)", __version__, os.getpid())
            await self.stopping.wait()
            log.info("stopping: closing listeners, finishing replies in flight")
            for listener in listeners:
                await listener.aclose()
            await self.generations.stop_all(SHUTDOWN_GRACE)
            await self.providers.aclose()
            if self.workers is not None:
                await self.workers.aclose()
            tg.cancel_scope.cancel()

    async def _start_workers(self) -> None:
        try:
            await self.workers.start()
        except ChatthyError as exc:  # each request tries again, and says why if it fails
            log.error("%s", exc.message)

    async def _warm_up(self) -> None:
        """Load the tokenizer, and the default provider's SDK, now rather than on the first ask.

        openai takes ~0.5 s and anthropic ~1.7 s to import; paying that at start-up
        (in a thread, while requests are already served) keeps the first reply fast.
        With provider workers, the SDK is theirs to import (they do at start) and
        this process never loads one.
        """
        default = self.config.providers[self.config.default_provider]
        counter = self.token_counter(default.model, default.kind)
        sdks = [] if self.workers is not None else [default.kind]

        def load(modules: list[str]) -> None:
            import importlib

            for module in modules:
                try:
                    importlib.import_module(module)
                except Exception:  # reported properly when the provider is used
                    log.exception("could not import %s", module)
            try:
                counter.count("warm up the tokenizer")  # loads the vendored encoding once
            except Exception:
                log.exception("could not load the tokenizer for %s", default.model)

        await anyio.to_thread.run_sync(load, sdks)
        # Only the default provider's SDK: each SDK costs 40-50 MB of resident
        # memory for the process's whole life, and most users only ever use one.
        # Another provider pays its import (0.5-1.7 s) on its first ask.
        from chatthy.process_heap import settle

        settle()
        where = (f"in {self.config.provider_workers} provider worker(s)" if self.workers is not None
                 else "in the daemon")
        log.info("warm-up done: providers stream %s; %s is the default", where, default.kind)

    async def _signals(self) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                if signum == signal.SIGHUP:
                    log.info("SIGHUP: authorised keys are re-read on change; nothing else to reload")
                    continue
                log.info("received %s", signal.Signals(signum).name)
                self.stopping.set()
                return

    async def _accept(self, listener: anyio.abc.SocketListener) -> None:
        async with anyio.create_task_group() as tg:
            while True:
                try:
                    stream = await listener.accept()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return
                tg.start_soon(self._handle, stream)

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        async with stream:
            raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
            if raw.family == socket.AF_UNIX:
                uid = peer_uid(raw)
                if uid is not None and uid != os.getuid():
                    log.warning("refused a connection from uid %s (daemon runs as uid %s)", uid, os.getuid())
                    return
                peer = f"unix(uid {uid})"
            else:
                peer = "tcp %s:%s" % stream.extra(anyio.abc.SocketAttribute.remote_address)[:2]
            # Counted per transport: a flood of TCP connections must not lock out local clients.
            local = raw.family == socket.AF_UNIX
            open_here = sum(1 for c in self.connections if c.local == local)
            if open_here >= self.config.max_connections:
                log.warning("refused %s: %d connections open (max_connections)", peer, open_here)
                return
            # TCP frames are encrypted as well as signed; the Unix socket needs no more than the kernel gives.
            cipher = None if local else FrameCipher.daemon(self.boxes, self.authorized.keys)
            channel = AsyncChannel(stream, self.signer, Verifier(self.authorized.keys, replay=self.replay),
                                   DEFAULT_LIMITS, cipher=cipher, send_timeout=self.config.send_timeout)
            conn = Connection(self, channel, peer)
            conn.local = local
            self.connections.add(conn)
            self.counters["connections"] += 1
            try:
                await conn.serve()
            finally:
                self.connections.discard(conn)


def _setup_logging(paths: Paths, to_stderr: bool) -> None:
    ensure_private_dir(paths.state_dir)
    root = logging.getLogger("chatthy")
    root.setLevel(logging.INFO)
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=2 * 1024 * 1024, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(logging.Formatter("chatthy: %(message)s"))
        root.addHandler(err)


def _lock_pid_file(paths: Paths) -> int:
    """Hold an exclusive lock on the pid file for the daemon's lifetime."""
    fd = os.open(paths.pid_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise Conflict(f"a chatthy daemon is already running (pid {other or '?'}; pid file {paths.pid_file})")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def systemd_sockets() -> list[socket.socket]:
    """Listening sockets handed over by systemd socket activation (sd_listen_fds), else [].

    systemd passes them as fds 3.. with LISTEN_FDS=n and LISTEN_PID=<our pid>;
    the variables are removed so that no child (an api_key_cmd) sees them.
    """
    env = os.environ
    if env.get("LISTEN_PID") != str(os.getpid()) or not env.get("LISTEN_FDS", "").isdigit():
        return []
    count = int(env["LISTEN_FDS"])
    for var in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        env.pop(var, None)
    socks = []
    for fd in range(3, 3 + count):
        sock = socket.socket(fileno=fd)
        sock.set_inheritable(False)
        sock.setblocking(False)
        socks.append(sock)
    return socks


def run(paths: Paths, *, log_to_stderr: bool = False, tcp: str | None = None) -> None:
    import chatthy.server.handlers  # noqa: F401  (registers the methods)
    from chatthy.store import Store

    _setup_logging(paths, log_to_stderr)
    config = config_mod.load(paths.config_file)
    keys = ensure_local_keys(paths.config_dir)
    pid_fd = _lock_pid_file(paths)
    activated = systemd_sockets()
    sockets = activated or [bind_unix(paths.socket)]
    store = None
    try:
        tcp = config.tcp if tcp is None else tcp
        if tcp:
            sockets.append(bind_tcp(tcp))
            log.info("listening on tcp %s (frames encrypted and signed; keys in %s)",
                     describe_tcp(sockets[-1]), paths.config_dir / "authorized_keys")
        store = Store.open(paths.database)
        from chatthy.server.generation import mark_interrupted

        interrupted = mark_interrupted(store)
        if interrupted:
            log.warning("%d reply(ies) were cut short when the daemon last stopped; kept as partial", interrupted)
        if not store.vec_loaded:
            log.warning("sqlite-vec could not be loaded: vector search falls back to exact numpy search")
        daemon = Daemon(paths, config, store, keys)
        daemon.socket_activated = bool(activated)
        anyio.run(daemon.serve, sockets)
    finally:
        if store is not None:
            store.close()
        try:
            if paths.socket.exists() and not activated:  # an activated socket is systemd's
                paths.socket.unlink()
        except OSError:
            pass
        os.ftruncate(pid_fd, 0)
        os.close(pid_fd)
        log.info("stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chatthy-daemon", description="Run the chatthy daemon in the foreground.")
    parser.add_argument("--log-stderr", action="store_true", help="log to stderr as well as the log file")
    parser.add_argument("--tcp", metavar="HOST:PORT", default=None,
                        help="also listen on TCP (encrypted); overrides [daemon] tcp; '' turns it off")
    args = parser.parse_args(argv)
    try:
        run(resolve(), log_to_stderr=args.log_stderr, tcp=args.tcp)
    except ChatthyError as exc:
        logging.getLogger("chatthy.server").error("%s", exc.message)
        print(f"chatthy: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
