"""Key files: this machine's Ed25519 keys and the peers it authorises.

Layout of the config dir (all created on first use)::

    client.key        this client's 32-byte seed, hex          0600
    daemon.key        the local daemon's seed, hex             0600
    daemon.pub        the daemon's public key: clients pin it  0644
    authorized_keys   "ed25519 <public hex> <name>" per line   0600
"""

from __future__ import annotations

import os
import time

from chatthy.wire.ed25519 import SigningKey

from chatthy.wire.errors import KeyFileError

# Paths here are strings (os.path), not pathlib: the client loads its keys on
# every start, and importing pathlib would cost it ~4 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

    Path = str | PathLike[str]

CLIENT_KEY = "client.key"
DAEMON_KEY = "daemon.key"
DAEMON_PUB = "daemon.pub"
AUTHORIZED_KEYS = "authorized_keys"
KEY_TYPE = "ed25519"

_HEX = frozenset("0123456789abcdefABCDEF")  # a set, not a regex: the client checks keys on every start
# A set, not a regex: importing re costs every client start ~5 ms.
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-")


def _is_key_name(name: str) -> bool:
    """1-64 of A-Z a-z 0-9 . _ @ -"""
    return 1 <= len(name) <= 64 and _NAME_CHARS.issuperset(name)


def _is_hex64(text: str) -> bool:
    return len(text) == 64 and _HEX.issuperset(text)

# How long a process that lost the creation race waits for the winner's write.
_RACE_WAIT_S = 2.0
_HEADER = (
    "# chatthy authorized_keys: one 'ed25519 <public key hex> <name>' per line.\n"
    "# Manage it with `chatthy keys`; deleting a line revokes that key at once.\n"
)


def public_hex(key) -> str:
    """The 64-hex-character public key of a signing (or verify) key."""
    # A signing key (ours or PyNaCl's) has .verify_key; a verify key is itself.
    verify_key = getattr(key, "verify_key", key)
    return verify_key.encode().hex()


def _chmod_fix(path: Path) -> str:
    import shlex

    return f"chmod 600 {shlex.quote(str(path))}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    # Makes the new directory entry durable; not every platform allows it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` so readers see the old file or the new one, never a mix."""
    path = os.fspath(path)
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the mode given to open is narrowed by the umask
            _write_all(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _create_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` with ``data`` unless it exists; True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, mode)
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        # Leave no half-written file behind to be mistaken for a real one.
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    os.close(fd)
    _fsync_dir(os.path.dirname(os.fspath(path)))
    return True


def _read_private(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o077:
            raise KeyFileError(
                f"key file {path} is accessible by group or others "
                f"(mode {mode & 0o777:o}), so it may have leaked and is refused: "
                f"run `{_chmod_fix(path)}` (and consider rotating the key)"
            )
        chunks = []
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("ascii")
    except UnicodeDecodeError as exc:
        raise KeyFileError(f"key file {path} is not a hex key (non-ASCII bytes)") from exc


def _load_signing_key(path: Path) -> SigningKey:
    deadline = time.monotonic() + _RACE_WAIT_S
    while True:
        text = _read_private(path).strip()
        if _is_hex64(text):
            return SigningKey(bytes.fromhex(text))
        # A hex prefix is most likely a racing creator still writing: wait for it.
        if not (len(text) < 64 and _HEX.issuperset(text) and time.monotonic() < deadline):
            raise KeyFileError(
                f"key file {path} does not hold a 64-hex-character Ed25519 seed; "
                "restore it from a backup, or delete it to make a new key "
                "(peers that trusted the old key must then trust the new one)"
            )
        time.sleep(0.01)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """Load the key at ``path``, creating it (0600) if it does not exist yet.

    Safe when several processes race to create it: exactly one creates it and
    every other one loads that key.
    """
    path = os.fspath(path)
    try:
        try:
            return _load_signing_key(path)
        except FileNotFoundError:
            pass
        key = SigningKey.generate()
        if _create_exclusive(path, (key.encode().hex() + "\n").encode("ascii"), 0o600):
            return key
        return _load_signing_key(path)  # another process created it first
    except OSError as exc:
        raise KeyFileError(f"cannot read or create key file {path}: {exc.strerror or exc}") from exc


def _parse_key_line(line: str) -> tuple[str, str] | str:
    """``(key, name)`` for a valid line, else the reason it is not valid."""
    parts = line.split()
    if parts[0] != KEY_TYPE:
        return f"unsupported key type {parts[0]!r} (only {KEY_TYPE!r})"
    if len(parts) < 2 or not _is_hex64(parts[1]):
        return "expected 64 hex characters of public key after 'ed25519'"
    if len(parts) != 3:
        return "expected exactly one name after the key"
    if not _is_key_name(parts[2]):
        return f"name {parts[2]!r} must be 1-64 of A-Z a-z 0-9 . _ @ -"
    return parts[1].lower(), parts[2]


def _parse_entries(text: str, path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    entries: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parsed = _parse_key_line(line)
        if isinstance(parsed, str):
            problems.append(f"{path}:{lineno}: {parsed}; line skipped")
            continue
        key, name = parsed
        if key in seen:
            problems.append(
                f"{path}:{lineno}: key already listed on line {seen[key]}; line skipped"
            )
            continue
        seen[key] = lineno
        entries.append((key, name))
    return entries, problems


class AuthorizedKeys:
    """The peers allowed to talk to us, re-read whenever the file changes.

    ``keys()`` runs on every frame, so it costs one ``stat`` unless the file
    changed. Lines that do not parse authorise nobody and are listed, with
    line numbers, in ``problems``.
    """

    def __init__(self, path: Path) -> None:
        from pathlib import Path  # the daemon's side: the client's start never gets here

        self.path = Path(path)
        self.problems: list[str] = []
        self._stamp: tuple | None | bool = False  # False: never loaded
        self._entries: list[tuple[str, str]] = []
        self._keys: list[str] = []

    def _current_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return ("error", str(exc))
        return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode)

    def _refresh(self) -> None:
        stamp = self._current_stamp()
        if stamp != self._stamp:
            self._load(stamp)

    def _load(self, stamp: tuple | None) -> None:
        self._stamp = stamp
        self._entries, self._keys, self.problems = [], [], []
        if stamp is None:
            return
        try:
            text, mode = self._read()
        except OSError as exc:
            self.problems.append(f"{self.path}: cannot read: {exc.strerror or exc}")
            return
        if mode & 0o022:
            self.problems.append(
                f"{self.path} is writable by group or others (mode {mode & 0o777:o}), "
                f"so nobody is authorised: run `{_chmod_fix(self.path)}`"
            )
            return
        self._entries, self.problems = _parse_entries(text, self.path)
        self._keys = [key for key, _ in self._entries]

    def _read(self) -> tuple[str, int]:
        with open(self.path, "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            return fh.read().decode("utf-8", errors="replace"), mode

    def keys(self) -> list[str]:
        """Authorised public keys, lowercase hex."""
        self._refresh()
        return list(self._keys)

    def entries(self) -> list[tuple[str, str]]:
        """``(key, name)`` pairs in file order."""
        self._refresh()
        return list(self._entries)

    def _text_for_update(self) -> str:
        try:
            text, mode = self._read()
        except FileNotFoundError:
            return _HEADER
        if mode & 0o022:
            raise KeyFileError(
                f"{self.path} is writable by group or others; check its content, "
                f"then run `{_chmod_fix(self.path)}`"
            )
        return text

    def add(self, pubkey_hex: str, name: str) -> None:
        """Authorise ``pubkey_hex`` under ``name``; ValueError if invalid or taken."""
        key = pubkey_hex.strip().lower()
        if not _is_hex64(key):
            raise ValueError(
                f"{pubkey_hex!r} is not an Ed25519 public key (64 hex characters expected)"
            )
        if not _is_key_name(name):
            raise ValueError(f"name {name!r} must be 1-64 of A-Z a-z 0-9 . _ @ -")
        text = self._text_for_update()
        for other_key, other_name in _parse_entries(text, self.path)[0]:
            if other_key == key:
                raise ValueError(f"this key is already authorised as {other_name!r}")
            if other_name == name:
                raise ValueError(f"name {name!r} is already used by key {other_key[:16]}…")
        if text and not text.endswith("\n"):
            text += "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _atomic_write(self.path, f"{text}{KEY_TYPE} {key} {name}\n", 0o600)
        self._stamp = False

    def remove(self, name_or_key: str) -> bool:
        """Revoke every line naming this key or name; False if none did."""
        if not self.path.exists():
            return False
        text = self._text_for_update()
        wanted = name_or_key.strip()
        wanted_key = wanted.lower()
        kept, removed = [], False
        for raw in text.splitlines(keepends=True):
            line = raw.strip()
            if line and not line.startswith("#"):
                parsed = _parse_key_line(line)
                if isinstance(parsed, tuple) and (parsed[0] == wanted_key or parsed[1] == wanted):
                    removed = True
                    continue
            kept.append(raw)
        if removed:
            _atomic_write(self.path, "".join(kept), 0o600)
            self._stamp = False
        return removed


class LocalKeys:
    """The local client and daemon keys (a plain class: see wire/limits.py for why)."""

    __slots__ = ("client", "daemon", "daemon_public")

    def __init__(self, client: SigningKey, daemon: SigningKey, daemon_public: str) -> None:
        self.client, self.daemon, self.daemon_public = client, daemon, daemon_public


def _read_public(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("ascii", errors="replace").strip()
    except FileNotFoundError:
        return None


def ensure_local_keys(config_dir: Path) -> LocalKeys:
    """Create (once, race-safe) the local client and daemon keys and authorise the client.

    ``authorized_keys`` is only seeded when it does not exist: a user who
    revoked the local key must not see it come back.
    """
    config_dir = os.fspath(config_dir)
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    client = load_or_create_signing_key(os.path.join(config_dir, CLIENT_KEY))
    daemon = load_or_create_signing_key(os.path.join(config_dir, DAEMON_KEY))
    daemon_public = public_hex(daemon)
    pub_path = os.path.join(config_dir, DAEMON_PUB)
    if _read_public(pub_path) != daemon_public:
        _atomic_write(pub_path, daemon_public + "\n", 0o644)
    seed = f"{_HEADER}{KEY_TYPE} {public_hex(client)} local\n"
    _create_exclusive(os.path.join(config_dir, AUTHORIZED_KEYS), seed.encode("ascii"), 0o600)
    return LocalKeys(client=client, daemon=daemon, daemon_public=daemon_public)


def load_client_keys(config_dir: Path) -> tuple[SigningKey, str]:
    """The client's signing key and the daemon public key it pins."""
    config_dir = os.fspath(config_dir)
    pub_path = os.path.join(config_dir, DAEMON_PUB)
    daemon_public = _read_public(pub_path)
    if daemon_public is None:
        local = ensure_local_keys(config_dir)
        return local.client, local.daemon_public
    if not _is_hex64(daemon_public):
        raise KeyFileError(
            f"{pub_path} must hold the daemon's public key (64 hex characters); "
            "copy it from the daemon host, or delete it to use a local daemon"
        )
    return load_or_create_signing_key(os.path.join(config_dir, CLIENT_KEY)), daemon_public.lower()
