"""``chatthy keys show|list|authorize|revoke|rotate``: who may talk to the daemon.

Everything here edits files in the config dir, not the daemon: the daemon
re-reads ``authorized_keys`` whenever it changes (one ``stat`` per frame), so an
authorisation or a revocation takes effect for the next frame, on connections
already open too. A client on another machine is authorised by its public key
(``chatthy keys show`` there), and is told the daemon's public key and address
(``[client] connect`` and ``daemon_key`` in its config).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from chatthy.cli.output import note, print_json, table
from chatthy.errors import BadRequest, NotFound


def _warn(message: str) -> None:
    # Not `note`: a broken authorized_keys line matters even in a pipeline.
    click.echo(f"chatthy: warning: {message}", err=True)


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` atomically: readers see the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _authorized(app):
    from chatthy.wire.keys import AUTHORIZED_KEYS, AuthorizedKeys

    return AuthorizedKeys(app.paths.config_dir / AUTHORIZED_KEYS)


def _client_key(app):
    from chatthy.client import read_key_files
    from chatthy.paths import ensure_private_dir
    from chatthy.wire.keys import CLIENT_KEY, load_or_create_signing_key

    key_path = ensure_private_dir(app.paths.config_dir) / CLIENT_KEY
    return read_key_files(lambda: load_or_create_signing_key(key_path))


def _daemon_public(app) -> tuple[str | None, str]:
    """(the daemon key this client pins, where it comes from)."""
    from chatthy.client import remote_daemon

    remote = remote_daemon(app.paths)
    if remote is not None and remote.daemon_key:
        return remote.daemon_key, f"daemon at {remote.target}"
    if remote is None:
        from chatthy.client import read_key_files
        from chatthy.wire.keys import ensure_local_keys

        return read_key_files(lambda: ensure_local_keys(app.paths.config_dir)).daemon_public, "the local daemon"
    try:
        return (app.paths.config_dir / "daemon.pub").read_text(encoding="ascii").strip(), "daemon.pub"
    except OSError:
        return None, f"daemon at {remote.target} (no key configured)"


def _name_of(entries: list[tuple[str, str]], key: str) -> str | None:
    return next((name for k, name in entries if k == key), None)


@click.group()
def keys() -> None:
    """Keys: this client's, the daemon's, and those authorised to use this daemon.

    \b
    To use this machine's daemon from another machine:
      here:   chatthy serve --tcp 0.0.0.0:8765    (or [daemon] tcp in config.toml)
      there:  chatthy keys show --client          → KEY
      here:   chatthy keys authorize KEY --name laptop
      there:  in config.toml, [client] connect = "tcp://THIS-HOST:8765"
              and daemon_key = "…"                (chatthy keys show --daemon, here)
    """


@keys.command()
@click.option("--client", "only", flag_value="client", help="Print only this client's public key.")
@click.option("--daemon", "only", flag_value="daemon", help="Print only the daemon's public key.")
@click.option("--json", "as_json", is_flag=True, help="JSON object.")
@click.pass_obj
def show(app, only, as_json) -> None:
    """This client's public key and the daemon key it trusts."""
    from chatthy.wire.keys import public_hex

    client = public_hex(_client_key(app))
    daemon, source = _daemon_public(app)
    name = _name_of(_authorized(app).entries(), client)
    if only:
        value = client if only == "client" else daemon
        if value is None:
            raise NotFound(f"no daemon key known for the {source}: set [client] daemon_key")
        click.echo(value)
        return
    if as_json:
        print_json({"client": client, "client_name": name, "daemon": daemon, "daemon_source": source})
        return
    click.echo(f"client  {client}")
    click.echo(f"daemon  {daemon or '-'}")
    if name:
        note(f"this client is authorised by the local daemon as {name!r}")
    note(f"the daemon key is that of {source}; another machine authorises this client with "
         f"`chatthy keys authorize {client} --name NAME`")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def list_(app, as_json) -> None:
    """The keys authorised to use this machine's daemon."""
    from chatthy.wire.keys import public_hex

    auth = _authorized(app)
    entries = auth.entries()
    for problem in auth.problems:
        _warn(problem)
    mine = public_hex(_client_key(app))
    if as_json:
        print_json([{"name": n, "key": k, "this_client": k == mine} for k, n in entries])
        return
    if not entries:
        note(f"no key is authorised ({auth.path}): nobody can use this daemon")
        return
    table(["NAME", "KEY", ""], [[n, k, "(this client)" if k == mine else ""] for k, n in entries])


@keys.command()
@click.argument("pubkey")
@click.option("--name", "-n", metavar="NAME", help="A name for the key (default: key-<first 8 hex>).")
@click.pass_obj
def authorize(app, pubkey, name) -> None:
    """Let the client with public key PUBKEY use this machine's daemon (at once)."""
    key = pubkey.strip().lower()
    name = name or f"key-{key[:8]}"
    try:
        _authorized(app).add(key, name)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    click.echo(f"authorised {name} ({key[:16]}…)")


@keys.command()
@click.argument("name_or_key")
@click.pass_obj
def revoke(app, name_or_key) -> None:
    """Stop NAME (or a public key) from using the daemon; open connections are cut at their next frame."""
    from chatthy.wire.keys import public_hex

    auth = _authorized(app)
    before = auth.entries()
    if not auth.remove(name_or_key):
        known = ", ".join(n for _, n in before) or "none"
        raise NotFound(f"no authorised key named {name_or_key!r} (authorised: {known})")
    gone = [(k, n) for k, n in before if (k, n) not in auth.entries()]
    for key, name in gone:
        click.echo(f"revoked {name} ({key[:16]}…)")
    if any(k == public_hex(_client_key(app)) for k, _ in gone):
        _warn("that was this client's own key: local commands are refused until you run "
              "`chatthy keys authorize $(chatthy keys show --client) --name local`")


@keys.command()
@click.option("--daemon", "which", flag_value="daemon",
              help="Rotate the daemon's key instead (stops the daemon; remote clients must update daemon_key).")
@click.pass_obj
def rotate(app, which) -> None:
    """Replace this client's key with a new one, keeping its authorisation here."""
    if which == "daemon":
        _rotate_daemon(app)
    else:
        _rotate_client(app)


def _rotate_client(app) -> None:
    from chatthy.client import remote_daemon
    from chatthy.wire.ed25519 import SigningKey
    from chatthy.wire.keys import CLIENT_KEY, KEY_TYPE, public_hex

    old = public_hex(_client_key(app))
    new_key = SigningKey.generate()
    new = public_hex(new_key)
    auth = _authorized(app)
    name = _name_of(auth.entries(), old)
    if name is not None:
        # New line first, key file second, old line last: at every moment the
        # key in client.key is authorised, so concurrent commands keep working.
        text = auth.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            text += "\n"
        _write_private(auth.path, f"{text}{KEY_TYPE} {new} {name}\n")
    _write_private(app.paths.config_dir / CLIENT_KEY, new_key.encode().hex() + "\n")
    if name is not None:
        auth.remove(old)
    click.echo(new)
    if name is not None:
        note(f"rotated this client's key; the local daemon authorises the new one as {name!r}")
    remote = remote_daemon(app.paths)
    if remote is not None or name is None:
        where = remote.target if remote is not None else "the daemon this client uses"
        _warn(f"{where} does not know the new key yet: on its machine, run "
              f"`chatthy keys authorize {new} --name NAME` and `chatthy keys revoke {old}`")


def _daemon_running(app) -> bool:
    # The daemon empties its pid file as it exits (the socket may outlive it under systemd).
    try:
        return bool(app.paths.pid_file.read_text().strip())
    except OSError:
        return False


def _rotate_daemon(app) -> None:
    import time

    from chatthy.client import Client, remote_daemon
    from chatthy.errors import ChatthyError
    from chatthy.wire.ed25519 import SigningKey
    from chatthy.wire.keys import DAEMON_KEY, DAEMON_PUB, public_hex
    from chatthy.wire.probe import socket_answers

    if remote_daemon(app.paths) is not None:
        raise BadRequest("this client uses a remote daemon: rotate the daemon key on its machine")
    if socket_answers(app.paths.socket):
        # The running daemon signs with the key it loaded: it must restart with the new one.
        try:
            with Client(app.paths, autostart=False) as client:
                client.call("daemon.stop")
        except ChatthyError as exc:
            raise ChatthyError(f"cannot stop the daemon to rotate its key: {exc.message}") from exc
        deadline = time.monotonic() + 15
        while _daemon_running(app) and time.monotonic() < deadline:
            time.sleep(0.05)
        note("stopped the daemon: the next command starts it with the new key")
    new_key = SigningKey.generate()
    new = public_hex(new_key)
    _write_private(app.paths.config_dir / DAEMON_KEY, new_key.encode().hex() + "\n")
    _write_private(app.paths.config_dir / DAEMON_PUB, new + "\n", 0o644)
    click.echo(new)
    _warn(f"clients on other machines must set [client] daemon_key = \"{new}\"")
    sys.stdout.flush()
