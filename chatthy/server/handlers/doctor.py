"""doctor: the checks only the daemon can make (``chatthy doctor`` adds the client's own).

Each check is ``{"check", "status": ok|warn|fail|skip, "message", "fix"}``.
Provider checks run concurrently, each within a few seconds: a provider's key
is looked up the way a request would (environment of the daemon, or
``api_key_cmd``) and its ``/models`` endpoint is asked, which proves both
that the server answers and that it accepts the key. Key values never appear
in a result: the messages name where a key comes from, never what it is.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import anyio

from chatthy import __version__
from chatthy.errors import ChatthyError, ConfigError
from chatthy.server.params import Bool, Int
from chatthy.server.registry import method
from chatthy.wire.limits import PROTOCOL_VERSION

DISK_FAIL = 100 * 1024**2
DISK_WARN = 1024**3


def _check(name: str, status: str, message: str, fix: str = "") -> dict:
    return {"check": name, "status": status, "message": message, "fix": fix}


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[key]")
    return text


def _key_source(settings) -> tuple[str, str | None]:
    """Where the daemon would take this provider's key from, without reading a command's output."""
    if settings.api_key_env and os.environ.get(settings.api_key_env, "").strip():
        return f"key from ${settings.api_key_env}", os.environ[settings.api_key_env].strip()
    if settings.api_key_cmd:
        return "key from api_key_cmd", None
    if not settings.key_required:
        return "no key needed", None
    return "", None


async def _provider_check(daemon, settings, timeout: float, is_default: bool) -> dict:
    name = f"provider {settings.name}"
    bad = "fail" if is_default else "warn"
    source, secret = _key_source(settings)
    if not source:
        fix = (f"export {settings.api_key_env}=… in the daemon's environment (for a service: "
               f"service.env in the config dir), or set api_key_cmd under [providers.{settings.name}]"
               if settings.api_key_env else f"set api_key_env or api_key_cmd under [providers.{settings.name}]")
        return _check(name, bad, f"no API key: ${settings.api_key_env} is not set in the daemon's environment"
                      if settings.api_key_env else "no API key configured", fix)
    provider = daemon.providers.get(settings.name)
    where = getattr(provider, "base_url", settings.base_url) or "the default endpoint"
    try:
        # The SDK's first import (up to ~2 s) is not the server's fault: keep it out of the time limit.
        await provider.load()
        with anyio.fail_after(timeout):
            models = await provider.list_models()
    except TimeoutError:
        return _check(name, bad, f"{source}; no answer from {where} within {timeout:g} s",
                      "check the server is running and base_url is right")
    except ConfigError as exc:  # api_key_cmd failed: its message says how
        return _check(name, bad, _scrub(exc.message, [secret]), f"fix api_key_cmd under [providers.{settings.name}]")
    except ChatthyError as exc:
        status = (exc.data or {}).get("status")
        fix = ("the key is refused: check it, or replace it" if status in (401, 403)
               else "check base_url, the network, and that the server is running")
        return _check(name, bad, f"{source}; {_scrub(exc.message, [secret])}", fix)
    except Exception as exc:  # noqa: BLE001 - a check reports, it never crashes the daemon
        return _check(name, bad, f"{source}; {type(exc).__name__}: {_scrub(str(exc), [secret])}")
    listed = "" if not models or settings.model in models else f" (model {settings.model!r} is not among them)"
    return _check(name, "ok", f"{source}; {where} answers, {len(models)} models{listed}")


async def _embedder_check(daemon, network: bool, timeout: float) -> dict:
    """Load the vector store's embedder (the local model, or ask the embeddings server)."""
    if importlib.util.find_spec("chatthy.vdb.service") is None:
        return _check("embedder", "skip", "no vector store in this version")
    try:
        from chatthy.vdb.service import service_for

        service = service_for(daemon)
        embedder = service.embedder()
        remote = service.settings.embedder != "local"
        if remote and not network:
            return _check("embedder", "skip", f"{embedder.model} not asked (--offline)")
        # The local model loads in ~0.5 s; a server gets the same time limit as the providers.
        with anyio.fail_after(max(timeout, 30.0) if not remote else timeout):
            await embedder.prepare()
    except TimeoutError:
        return _check("embedder", "fail", f"the embedder did not load within {timeout:g} s")
    except ChatthyError as exc:
        return _check("embedder", "fail", exc.message, "see [vdb] in config.toml (`man chatthy`, FILES)")
    except Exception as exc:  # noqa: BLE001 - a check reports, it never crashes the daemon
        return _check("embedder", "fail", f"{type(exc).__name__}: {exc}")
    dims = f", {embedder.dimension} dimensions" if getattr(embedder, "dimension", None) else ""
    return _check("embedder", "ok", f"{embedder.model} ready ({'server' if remote else 'local'}{dims})")


def _disk_check(path) -> dict:
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return _check("disk", "warn", f"cannot read free space of {path}: {exc.strerror or exc}")
    text = f"{free / 1024**3:.1f} GiB free on {path}"
    if free < DISK_FAIL:
        return _check("disk", "fail", text, "free some space: SQLite needs room to write and checkpoint")
    if free < DISK_WARN:
        return _check("disk", "warn", text, "free some space soon")
    return _check("disk", "ok", text)


@method("doctor", network=Bool(default=True), timeout=Int(default=5, min=1, max=60))
async def doctor(ctx, p):
    d = ctx.daemon
    checks = [
        _check("sqlite-vec", "ok", f"sqlite-vec {d.store.vec_version} loaded")
        if d.store.vec_loaded else
        _check("sqlite-vec", "warn", "sqlite-vec could not be loaded: vector search uses exact numpy search",
               "reinstall it: pip install --force-reinstall sqlite-vec"),
        _check("database", "ok", f"{d.paths.database} ({_size(d.paths.database)})"),
        await _embedder_check(d, p["network"], float(p["timeout"])),
        _disk_check(d.paths.data_dir),
        await _workers_check(d),
    ]
    providers = list(d.config.providers.values())
    if p["network"]:
        results: list[dict | None] = [None] * len(providers)

        async def run(i: int, settings) -> None:
            results[i] = await _provider_check(d, settings, float(p["timeout"]),
                                               settings.name == d.config.default_provider)

        async with anyio.create_task_group() as tg:
            for i, settings in enumerate(providers):
                tg.start_soon(run, i, settings)
        checks += [r for r in results if r is not None]
    else:
        checks += [_check(f"provider {s.name}", "skip", "not asked (--offline)") for s in providers]
    return {"version": __version__, "protocol": PROTOCOL_VERSION, "pid": os.getpid(), "checks": checks}


async def _workers_check(d) -> dict:
    """The provider workers are running; one that died is started again here, or the check says why not."""
    pool = d.workers
    if pool is None:
        return _check("provider workers", "ok", "none: providers stream inside the daemon (provider_workers = 0)")
    try:
        await pool.worker()  # replaces a dead one, as the next request would
    except ChatthyError as exc:
        return _check("provider workers", "fail", exc.message, "see `chatthy daemon logs` for why it stopped")
    live = [w for w in pool.workers if w.alive]
    restarted = pool.started - pool.size
    pids = ", ".join(str(w.pid) for w in live)
    message = f"{len(live)} running (pid {pids})"
    if restarted > 0:
        return _check("provider workers", "warn", f"{message}; {restarted} replaced after stopping",
                      "`chatthy daemon logs` says why they stopped")
    return _check("provider workers", "ok", message)


def _size(path) -> str:
    try:
        size = os.stat(path).st_size
    except OSError:
        return "not created yet"
    return f"{size / 1024**2:.1f} MiB" if size >= 1024**2 else f"{size / 1024:.0f} KiB"
