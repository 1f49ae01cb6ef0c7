"""User tools: commands from ``[tools.user.NAME]``, run without a shell.

The command is a list (program, then arguments) handed to ``exec`` as is:
nothing the model sends is ever parsed by a shell. Arguments reach the
program either as one JSON object on stdin (``input = "stdin"``, the
default) or, with ``input = "argv"``, by filling ``{name}`` placeholders in
the command's elements; each placeholder fills part of one element, so a
value can never become a second argument or an option the user did not write
(put ``--`` before it in the command when a value could start with ``-``).

The process gets a minimal environment (PATH, HOME, LANG, …) plus the tool's
``env``: API keys in the daemon's environment are not handed to it. It runs in
its own process group, killed whole on timeout or cancellation. Output beyond
``max_output`` is cut and the process stopped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from typing import TYPE_CHECKING

import anyio

from chatthy.tools.registry import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from chatthy.tools.settings import UserToolSettings

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PASSED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM")
STDERR_CAP = 4096


def _argv_value(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def build_argv(settings: UserToolSettings, arguments: dict) -> list[str]:
    """The command with ``{name}`` filled from ``arguments`` (argv mode), each element on its own."""
    if settings.input != "argv":
        return list(settings.command)
    argv = []
    for element in settings.command:
        def fill(m: re.Match) -> str:
            name = m.group(1)
            if name not in arguments:
                raise ToolError(f"missing argument {name!r}")
            value = _argv_value(arguments[name])
            if "\x00" in value:
                raise ToolError(f"argument {name!r} contains a NUL character")
            return value

        argv.append(_PLACEHOLDER.sub(fill, element))
    return argv


def tool_env(settings: UserToolSettings) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(settings.env)
    return env


class UserTool:
    def __init__(self, settings: UserToolSettings) -> None:
        self.settings = settings
        self.spec = ToolSpec(settings.name, settings.description, settings.parameters, "user", settings.confirm)

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        s = self.settings
        argv = build_argv(s, arguments)
        stdin = json.dumps(arguments, ensure_ascii=False).encode() if s.input == "stdin" else b""
        cwd = os.path.expanduser(s.cwd) if s.cwd else None
        try:
            process = await anyio.open_process(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=cwd, env=tool_env(s), start_new_session=True,
            )
        except FileNotFoundError:
            raise ToolError(f"cannot run {argv[0]!r}: no such program (tools.user.{s.name}.command)") from None
        except PermissionError:
            raise ToolError(f"cannot run {argv[0]!r}: permission denied") from None
        except OSError as exc:
            raise ToolError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None

        out = bytearray()
        err = bytearray()
        truncated = False
        timed_out = False

        async def feed() -> None:
            try:
                if stdin:
                    await process.stdin.send(stdin)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass  # the program does not read its input: fine
            finally:
                await process.stdin.aclose()

        async def read_out() -> None:
            nonlocal truncated
            async for data in process.stdout:
                room = s.max_output - len(out)
                out.extend(data[:room])
                if len(data) > room:
                    truncated = True
                    _kill(process)
                    return

        async def read_err() -> None:
            async for data in process.stderr:
                err.extend(data[:max(0, STDERR_CAP - len(err))])

        try:
            with anyio.move_on_after(s.timeout) as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(feed)
                    tg.start_soon(read_out)
                    tg.start_soon(read_err)
                await process.wait()
            timed_out = scope.cancelled_caught
        finally:
            if process.returncode is None:
                _kill(process)
                with anyio.CancelScope(shield=True):
                    await process.wait()
            await process.aclose()

        text = out.decode("utf-8", "replace")
        if timed_out:
            raise ToolError(f"timed out after {s.timeout:g} s" + (f"; output so far:\n{text}" if text else ""))
        if truncated:
            return ToolResult(text + f"\n[output cut at {s.max_output:,} bytes]")
        if process.returncode != 0:
            detail = err.decode("utf-8", "replace").strip() or text.strip()
            raise ToolError(f"exited with status {process.returncode}" + (f": {detail}" if detail else ""))
        return ToolResult(text)


def _kill(process) -> None:
    """Kill the tool's whole process group (it may have started children)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
