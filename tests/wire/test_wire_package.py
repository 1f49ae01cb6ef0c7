import ast
import subprocess
import sys
from pathlib import Path

import chatthy
import chatthy.wire as wire

REPO = Path(chatthy.__file__).resolve().parent.parent
WIRE = REPO / "chatthy" / "wire"


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_wire_imports_nothing_of_chatthy_outside_itself():
    for path in WIRE.glob("*.py"):
        for module in imported_modules(path):
            if module == "chatthy" or module.startswith("chatthy."):
                assert module.startswith("chatthy.wire"), f"{path.name} imports {module}"


def test_only_the_async_channel_imports_anyio():
    for path in WIRE.glob("*.py"):
        roots = {module.split(".")[0] for module in imported_modules(path)}
        if path.name != "channel_async.py":
            assert not roots & {"anyio", "trio", "asyncio", "sniffio"}, path.name


def test_importing_the_package_is_cheap():
    code = (
        "import sys, chatthy.wire, chatthy.wire.errors;"
        "from chatthy.wire import WireError, Limits;"
        "print(sorted(m for m in ('anyio', 'nacl', 'json', 'asyncio') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "[]"


def test_client_side_never_loads_anyio():
    code = (
        "import sys, chatthy.wire as w;"
        "[getattr(w, name) for name in w.__all__];"
        "print('anyio' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    assert out.strip() == "False"


def test_every_exported_name_resolves():
    assert sorted(wire.__all__) == sorted(wire._MODULE_OF)
    for name in wire.__all__:
        assert getattr(wire, name) is not None
    assert "AsyncChannel" not in wire.__all__


def test_error_codes():
    expected = {
        "FrameTooLarge": "too_large", "IncompleteFrame": "bad_frame",
        "ConnectionClosed": "bad_frame", "BadEnvelope": "bad_request",
        "BadSignature": "unauthorised", "UnknownKey": "unauthorised",
        "StaleFrame": "unauthorised", "ReplayedFrame": "unauthorised",
        "ReplayCacheFull": "busy", "StreamGap": "bad_frame",
        "StreamCorrupt": "bad_frame", "KeyFileError": "config_error",
    }
    for name, code in expected.items():
        cls = getattr(wire, name)
        assert issubclass(cls, wire.WireError) and cls.code == code
        assert name in wire.errors.__doc__
