"""The JSON payload inside a frame, parsed strictly.

Strict because both ends are chatthy: anything unexpected is a bug, an old
version or an attack, and refusing it with a precise reason beats guessing.
"""

from __future__ import annotations

from chatthy.wire.json_codec import dumps, loads
from chatthy.wire.errors import BadEnvelope
from chatthy.wire.limits import DEFAULT_LIMITS, PROTOCOL_VERSION, Limits

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms
if TYPE_CHECKING:
    from typing import Any

TYPES = frozenset({"request", "chunk", "end", "error", "event", "cancel", "ack"})

_FIELDS = frozenset(
    {"v", "type", "id", "ts", "nonce", "key", "seq", "method", "params", "data"}
)
# Checked with sets, not regexes: compiling patterns costs every client start.
_LOWER_HEX = frozenset("0123456789abcdef")
_METHOD_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz")
_METHOD_CHARS = _METHOD_FIRST | frozenset("0123456789_.")
_METHOD_RULE = "[a-z][a-z0-9_.]{0,63}"


def _is_lower_hex(value: str, length: int) -> bool:
    return len(value) == length and _LOWER_HEX.issuperset(value)


def _is_method(value: str) -> bool:
    return 1 <= len(value) <= 64 and value[0] in _METHOD_FIRST and _METHOD_CHARS.issuperset(value)

# Only a \uD800-\uDFFF escape can smuggle a lone surrogate into a str, which
# would later fail to encode as UTF-8 far from here; scan only when one may
# appear (a false alarm just costs the exact check). Bytes tests, not a regex:
# importing re costs every client start ~5 ms.
_SURROGATE_PREFIXES = tuple(b"\\ud" + bytes([c]) for c in b"89abcdef")


def _may_hold_surrogate(payload: bytes) -> bool:
    if b"\\u" not in payload:
        return False
    lowered = payload.lower()
    return any(prefix in lowered for prefix in _SURROGATE_PREFIXES)


class Envelope:
    """A verified, parsed frame (a plain class: see limits.py for why)."""

    __slots__ = ("v", "type", "id", "ts", "nonce", "key", "seq", "method", "params", "data")

    def __init__(self, v: int, type: str, id: str, ts: int, nonce: str, key: str, seq: int | None = None,
                 method: str | None = None, params: dict | None = None, data: Any = None) -> None:
        self.v, self.type, self.id, self.ts, self.nonce, self.key = v, type, id, ts, nonce, key
        self.seq, self.method, self.params, self.data = seq, method, params, data

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Envelope) and self._fields() == other._fields()

    def __repr__(self) -> str:
        return "Envelope(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


def dump_payload(fields: dict) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that get signed and sent."""
    return dumps(fields, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but true is not a timestamp.
    return type(value) is int


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return obj


def _check_no_lone_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _decode(payload: bytes) -> Any:
    try:
        text = payload.decode("utf-8")
        obj = loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
        if _may_hold_surrogate(payload):
            _check_no_lone_surrogates(obj)
    except UnicodeError as exc:
        raise BadEnvelope(f"payload is not valid UTF-8: {exc}") from exc
    except RecursionError as exc:
        raise BadEnvelope("payload JSON is nested too deeply") from exc
    except ValueError as exc:
        raise BadEnvelope(f"payload is not valid JSON: {exc}") from exc
    return obj


def parse_envelope(payload: bytes, limits: Limits = DEFAULT_LIMITS) -> Envelope:
    """Parse and validate a payload; every failure is a ``BadEnvelope`` saying why."""
    obj = _decode(payload)
    if not isinstance(obj, dict):
        raise BadEnvelope(f"payload must be a JSON object, not {type(obj).__name__}")

    # The version first: a newer peer may legitimately use fields we do not know.
    if "v" not in obj:
        raise BadEnvelope("missing field 'v' (protocol version)")
    v = obj["v"]
    if not _is_int(v):
        raise BadEnvelope(f"field 'v' must be an integer, got {v!r}")
    if v != PROTOCOL_VERSION:
        raise BadEnvelope(
            f"peer speaks protocol version {v}, this side speaks {PROTOCOL_VERSION}: "
            "upgrade chatthy on both ends"
        )

    unknown = obj.keys() - _FIELDS
    if unknown:
        raise BadEnvelope(f"unknown field(s): {', '.join(sorted(map(repr, unknown)))}")
    for name in ("type", "id", "ts", "nonce", "key"):
        if name not in obj:
            raise BadEnvelope(f"missing field {name!r}")

    kind = obj["type"]
    if not isinstance(kind, str) or kind not in TYPES:
        raise BadEnvelope(f"field 'type' must be one of {sorted(TYPES)}, got {kind!r}")
    ident = obj["id"]
    if not isinstance(ident, str) or not ident:
        raise BadEnvelope(f"field 'id' must be a non-empty string, got {ident!r}")
    if len(ident) > limits.max_id_len:
        raise BadEnvelope(
            f"field 'id' is {len(ident)} characters long; the limit is {limits.max_id_len}"
        )
    ts = obj["ts"]
    if not _is_int(ts):
        raise BadEnvelope(f"field 'ts' must be an integer (ms since epoch), got {ts!r}")
    nonce = obj["nonce"]
    if not isinstance(nonce, str) or not _is_lower_hex(nonce, 32):
        raise BadEnvelope("field 'nonce' must be 32 lowercase hex characters")
    key = obj["key"]
    if not isinstance(key, str) or not _is_lower_hex(key, 64):
        raise BadEnvelope("field 'key' must be 64 lowercase hex characters")

    seq = obj.get("seq")
    if seq is not None and (not _is_int(seq) or seq < 0):
        raise BadEnvelope(f"field 'seq' must be a non-negative integer, got {seq!r}")
    if seq is None and kind in ("chunk", "event"):
        raise BadEnvelope(f"a {kind} frame needs 'seq'")

    method = obj.get("method")
    if method is not None and (not isinstance(method, str) or not _is_method(method)):
        raise BadEnvelope(
            f"field 'method' must match {_METHOD_RULE} (lowercase name), got {method!r}"
        )
    params = obj.get("params")
    if params is not None and not isinstance(params, dict):
        raise BadEnvelope(f"field 'params' must be an object, got {type(params).__name__}")
    if kind == "request":
        if method is None:
            raise BadEnvelope("a request frame needs 'method'")
        if params is None:
            params = {}

    data = obj.get("data")
    if kind == "error":
        if not isinstance(data, dict):
            raise BadEnvelope("an error frame needs 'data' as an object with 'code' and 'message'")
        if not isinstance(data.get("code"), str) or not isinstance(data.get("message"), str):
            raise BadEnvelope("an error frame's 'data' needs string 'code' and 'message'")

    return Envelope(
        v=v, type=kind, id=ident, ts=ts, nonce=nonce, key=key,
        seq=seq, method=method, params=params, data=data,
    )
