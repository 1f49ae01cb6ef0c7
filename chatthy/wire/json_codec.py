"""JSON through CPython's C accelerator, without importing the ``json`` package.

``import json`` costs every client start about 5 ms: ``json.decoder`` compiles
regexes at import, which pulls in ``re`` and ``enum``, yet with the C
accelerator (``_json``) present those regexes are never used to parse a
document. That was a quarter of ``chatthy chat list``. This module builds the
same C scanner and encoder ``json`` would, once, and gives the same results:

- ``dumps`` equals ``json.dumps(value, separators=…, ensure_ascii=…,
  allow_nan=…)`` for every value (sort_keys, indent and ``default`` are not
  offered: ``print_json`` still uses ``json`` for indented output).
- ``loads`` equals ``json.loads(text, object_pairs_hook=…, parse_constant=…)``
  for valid documents. For anything invalid it hands the text to ``json``
  itself, so the error, its message and position are exactly json's.

Without ``_json`` (another Python implementation) both are thin wrappers over
the ``json`` package. A property test checks both against ``json``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs every client start ~3 ms
if TYPE_CHECKING:
    from typing import Any, Callable

_WHITESPACE = " \t\n\r"  # JSON's whitespace, exactly (str.strip's default is wider)

try:
    from _json import encode_basestring as _escape_utf8
    from _json import encode_basestring_ascii as _escape_ascii
    from _json import make_encoder as _make_encoder
    from _json import make_scanner as _make_scanner
except ImportError:  # pragma: no cover - CPython always has _json
    _make_scanner = _make_encoder = None


def _not_serializable(value: object) -> Any:
    # json's own message, so callers see the same error either way.
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


_encoders: dict[tuple, Callable] = {}


def dumps(value: Any, *, separators: tuple[str, str] = (", ", ": "), ensure_ascii: bool = True,
          allow_nan: bool = True) -> str:
    """``json.dumps(value, separators=…, ensure_ascii=…, allow_nan=…)``."""
    if _make_encoder is None:  # pragma: no cover
        import json

        return json.dumps(value, separators=separators, ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    key = (separators, ensure_ascii, allow_nan)
    encode = _encoders.get(key)
    if encode is None:
        # The arguments json.encoder.JSONEncoder.iterencode passes for a one-shot
        # encode: circular references checked (markers), keys not sorted or skipped.
        encode = _make_encoder({}, _not_serializable, _escape_ascii if ensure_ascii else _escape_utf8,
                               None, separators[1], separators[0], False, False, allow_nan)
        _encoders[key] = encode
    return "".join(encode(value, 0))


class _ScanContext:
    """The attributes the C scanner reads from a ``json.JSONDecoder``."""

    __slots__ = ("strict", "object_hook", "object_pairs_hook", "parse_float", "parse_int", "parse_constant")

    def __init__(self, object_pairs_hook: Callable | None, parse_constant: Callable) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = object_pairs_hook
        self.parse_float = float  # exactly float and int: the scanner's fast paths
        self.parse_int = int
        self.parse_constant = parse_constant


_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}
_scanners: dict[tuple, Callable] = {}


def loads(text: str, *, object_pairs_hook: Callable | None = None,
          parse_constant: Callable | None = None) -> Any:
    """``json.loads(text, object_pairs_hook=…, parse_constant=…)`` for a str."""
    if _make_scanner is None:  # pragma: no cover
        return _json_loads(text, object_pairs_hook, parse_constant)
    key = (object_pairs_hook, parse_constant)
    scan = _scanners.get(key)
    if scan is None:
        scan = _make_scanner(_ScanContext(object_pairs_hook, parse_constant or _CONSTANTS.__getitem__))
        _scanners[key] = scan
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = scan(text, start)
    except StopIteration:  # nothing that starts a value: json says why
        return _json_loads(text, object_pairs_hook, parse_constant)
    if end != len(text) and text[end:].strip(_WHITESPACE):
        return _json_loads(text, object_pairs_hook, parse_constant)  # "Extra data"
    return value


def _json_loads(text: str, object_pairs_hook: Callable | None, parse_constant: Callable | None) -> Any:
    import json

    return json.loads(text, object_pairs_hook=object_pairs_hook, parse_constant=parse_constant)
