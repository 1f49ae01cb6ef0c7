"""The pieces that need no daemon: image checks, settings, workflow files, argv, arguments, replay."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from chatthy import config
from chatthy.errors import BadRequest, ConfigError, TooLarge
from chatthy.tools.image_files import check_image, dimensions, estimate_tokens, read_image_file, sniff
from chatthy.tools.registry import ToolError, ToolSpec, check_arguments
from chatthy.tools.settings import UserToolSettings
from chatthy.tools.user_tools import build_argv
from chatthy.workflows import definition

# -- images ------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 640, 480) + b"\x08\x02\x00\x00\x00"
GIF = b"GIF89a" + struct.pack("<HH", 32, 16) + b"\x00" * 8
JPEG = (b"\xff\xd8\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
        + b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 300, 200) + b"\x03" + b"\x00" * 9)
WEBP_LOSSY = b"RIFF" + b"\x00" * 4 + b"WEBPVP8 " + b"\x00" * 10 + struct.pack("<HH", 120, 90)
WEBP_X = b"RIFF" + b"\x00" * 4 + b"WEBPVP8X" + b"\x00" * 8 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little")


@pytest.mark.parametrize("data,mime,size", [
    (PNG, "image/png", (640, 480)), (GIF, "image/gif", (32, 16)), (JPEG, "image/jpeg", (200, 300)),
    (WEBP_LOSSY, "image/webp", (120, 90)), (WEBP_X, "image/webp", (100, 50)),
])
def test_images_are_told_apart_by_content(data, mime, size):
    assert sniff(data) == mime
    assert dimensions(data, mime) == size
    info = check_image(data)
    assert (info.mime, info.width, info.height) == (mime, *size)


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7", b"RIFF\x00\x00\x00\x00WAVE", b"\x89PNX"])
def test_other_content_is_refused(data):
    with pytest.raises(BadRequest, match="not a PNG, JPEG, GIF or WebP"):
        check_image(data)


def test_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(PNG + b"\x00" * 3000)
    with pytest.raises(TooLarge, match="larger than the limit of 2 KiB"):
        read_image_file(path, max_bytes=2048)
    assert read_image_file(tmp_path / "big.png", max_bytes=10_000)
    with pytest.raises(BadRequest, match="is a directory"):
        read_image_file(tmp_path)


@pytest.mark.parametrize("w,h,kind,tokens", [
    (512, 512, "openai", 85 + 170 * 1),      # small images are not scaled up: one tile
    (1024, 1024, "openai", 85 + 170 * 4),    # 768×768 → 2×2 tiles
    (4096, 2048, "openai", 85 + 170 * 6),    # 2048×1024 → 1536×768 → 3×2 tiles
    (750, 1000, "anthropic", 1000),
    (5000, 5000, "anthropic", 1534),         # scaled to ~1.15 MP
    (None, None, "anthropic", 1600),
])
def test_token_estimates(w, h, kind, tokens):
    assert estimate_tokens(w, h, kind) == tokens


# -- config ------------------------------------------------------------------

def parse(text: str):
    return config.parse(text, Path("/c/config.toml"))


def test_tools_settings_parse():
    cfg = parse("""
[tools]
max_rounds = 4
default = ["calculator"]
[tools.user.grep]
description = "grep"
command = ["grep", "-rn", "--", "{pattern}", "."]
input = "argv"
confirm = true
[mcp.files]
command = ["mcp-files", "/tmp"]
enabled = false
[images]
max_mb = 1.5
[providers.local]
kind = "openai"
model = "m"
context_length = 4096
max_tokens = 512
vision = false
""")
    assert cfg.tools.max_rounds == 4 and cfg.tools.default == ("calculator",)
    grep = cfg.tools.user["grep"]
    assert grep.command == ("grep", "-rn", "--", "{pattern}", ".") and grep.confirm and grep.input == "argv"
    assert cfg.mcp["files"].enabled is False
    assert cfg.images.max_bytes == int(1.5 * 1024 * 1024)
    assert cfg.providers["local"].vision is False and cfg.providers["openai"].vision is True


@pytest.mark.parametrize("text,message", [
    ("[tools]\nmax_rounds = 0\n", ":2: tools.max_rounds: must be positive"),
    ("[tools]\nrounds = 3\n", ":2: tools.rounds: unknown setting"),
    ("[tools.user.x]\ncommand = [\"a\"]\n", "tools.user.x: missing required setting 'description'"),
    ("[tools.user.x]\ndescription = \"d\"\n", "tools.user.x: missing required setting 'command'"),
    ("[tools.user.x]\ndescription = \"d\"\ncommand = \"ls -l\"\n", "command: must be a list of strings"),
    ("[tools.user.x]\ndescription = \"d\"\ncommand = [\"a\"]\ninput = \"pipe\"\n", "input: must be one of stdin, argv"),
    ("[tools.user.calculator]\ndescription = \"d\"\ncommand = [\"a\"]\n", "is the name of a built-in tool"),
    ('[tools.user."a b"]\ndescription = "d"\ncommand = ["a"]\n', "tool names are 1-64 letters"),
    ("[mcp.s]\ncommand = []\n", "mcp.s.command: must name a program"),
    ("[mcp]\ns = 1\n", "mcp.s: must be a table"),
    ("[images]\nmax_mb = -1\n", "images.max_mb: must be positive"),
    ("[providers.openai]\nvision = \"no\"\n", "providers.openai.vision: must be bool"),
])
def test_bad_tool_settings_name_file_line_and_reason(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse(text)


def test_default_config_text_documents_the_sections():
    text = config.DEFAULT_CONFIG_TEXT
    start = text.index("# [tools]")
    uncommented = "\n".join(re.sub(r"^# ?", "", line) for line in text[start:].splitlines())
    cfg = parse(uncommented)
    assert "grep_notes" in cfg.tools.user and "files" in cfg.mcp


# -- user tools --------------------------------------------------------------

def test_argv_placeholders_fill_one_element_each():
    s = UserToolSettings("t", "d", ("prog", "--", "{a}", "x={b}", "{a}{a}"), input="argv")
    assert build_argv(s, {"a": "; rm -rf /", "b": [1, 2]}) == ["prog", "--", "; rm -rf /", "x=[1, 2]",
                                                              "; rm -rf /; rm -rf /"]
    with pytest.raises(ToolError, match="missing argument 'b'"):
        build_argv(s, {"a": "x"})
    stdin_mode = UserToolSettings("t", "d", ("prog", "{a}"))
    assert build_argv(stdin_mode, {"a": "x"}) == ["prog", "{a}"]  # stdin mode leaves the command alone


def test_arguments_are_checked_against_the_schema():
    spec = ToolSpec("t", "d", {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
                               "required": ["n"], "additionalProperties": False})
    check_arguments(spec, {"n": 3, "s": "x"})
    with pytest.raises(ToolError, match="missing required argument"):
        check_arguments(spec, {"s": "x"})
    with pytest.raises(ToolError, match="'n' must be integer, not bool"):
        check_arguments(spec, {"n": True})
    with pytest.raises(ToolError, match="unknown argument"):
        check_arguments(spec, {"n": 1, "zzz": 2})


# -- workflow files ------------------------------------------------------------

def test_builtin_workflows_load():
    workflows, problems = definition.list_all(Path("/nonexistent"))
    assert problems == []
    names = {w.name for w in workflows}
    assert {"refine", "summarize-url", "answer-from-knowledge"} <= names


@pytest.mark.parametrize("text,message", [
    ("", "no steps"),
    ("[[steps]]\nprompt = \"x\"\n", "every step needs a name"),
    ("[[steps]]\nname = \"a\"\n", "a step is exactly one of"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\ntool = \"calculator\"\n", "a step is exactly one of"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\n[[steps]]\nname = \"a\"\nprompt = \"y\"\n", "must be unique: a"),
    ("[[steps]]\nname = \"input\"\nprompt = \"x\"\n", "not 'input' or 'round'"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\nmax = 99\n", "max must be between 1 and 50"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\nrepeat_until_regex = \"(\"\n", "not a valid regular expression"),
    ("[[steps]]\nname = \"g\"\n[[steps.steps]]\nname = \"a\"\nprompt = \"x\"\n", "only makes sense as a loop"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\nargs = {}\n", "args only go with tool"),
    ("result = \"zz\"\n[[steps]]\nname = \"a\"\nprompt = \"x\"\n", "result = 'zz' is not the name"),
    ("[[steps]]\nname = \"g\"\nmax = 2\ncheck = \"b\"\n[[steps.steps]]\nname = \"a\"\nprompt = \"x\"\n",
     "check = 'b' names none"),
    ("[[steps]]\nname = \"a\"\nprompt = \"x\"\ncolour = 1\n", "unknown field 'colour'"),
])
def test_bad_workflows_are_refused_with_a_reason(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        definition.parse("w", text)


def test_workflow_variables_and_loops():
    wf = definition.parse("w", """
[vars]
tone = "dry"
[[steps]]
name = "a"
prompt = "{{input}} in a {{tone}} tone for {{reader}}"
[[steps]]
name = "b"
repeat_until_regex = "^OK$"
[[steps.steps]]
name = "c"
prompt = "{{a}} round {{round}}"
""")
    assert wf.variables() == {"tone", "reader"}
    loop = wf.steps[1]
    assert loop.loops and loop.max == 3 and loop.met("fine\nOK\n") and not loop.met("not OK yet")


# -- replaying tool rounds ---------------------------------------------------------

def _call(row, round_no, call_id, name, result, status="ok"):
    from chatthy.tools.storage import ToolCallRecord

    return ToolCallRecord(row, 1, round_no, call_id, name, {"x": row}, result, status, None, 1, 5, "t")


def test_rounds_replay_as_assistant_calls_then_results():
    from chatthy.server.tool_plan import _flatten_rounds, _replay_rounds

    content = "Let me look.\n\nFound it: 42."
    calls = [_call(1, 0, "dup", "calculator", "42"), _call(2, 0, "dup", "current_time", None, "refused")]
    seen: set[str] = set()
    out = _replay_rounds(content, [{"end": 12}], calls, seen)
    assert out[0] == {"role": "assistant", "content": "Let me look.", "tool_calls": [
        {"id": "dup", "name": "calculator", "arguments": {"x": 1}},
        {"id": "call_2", "name": "current_time", "arguments": {"x": 2}}]}  # ids made unique
    assert out[1] == {"role": "tool", "tool_call_id": "dup", "content": "42", "is_error": False}
    assert out[2] == {"role": "tool", "tool_call_id": "call_2", "content": "not run: the user did not approve it",
                      "is_error": True}
    assert out[3] == {"role": "assistant", "content": "Found it: 42."}
    flat = _flatten_rounds(content, calls)
    assert flat.startswith('[tool calculator({"x": 1}) → 42]') and flat.endswith(content)
