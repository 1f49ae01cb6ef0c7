"""/image: attach images to the next question sent from the REPL (what ``ask -a`` does).

``/image PATH…`` reads and checks the files at once (PNG, JPEG, GIF or WebP
by content, ``[images] max_mb`` and ``max_per_message``: the checks of
``ask -a``, chatthy/cli/tool_activity.py ``attachments_of``), so a wrong file
is one line now rather than a refused question later; they wait (toolbar:
``📎 N``) and go with the next question only. ``/image`` alone lists them,
``/image clear`` drops them. A command that fails adds nothing and drops
nothing. If the daemon refuses the question before answering it (a
text-only provider, say), its images wait again for the next one.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shlex

from chatthy.errors import BadRequest
from chatthy.render.sanitise import neutralise
from chatthy.repl.commands import command
from chatthy.repl.state import PendingImage


def _paths(arg: str) -> list[str]:
    """``a.png "my photo.jpg"`` → two paths; one existing file with spaces needs no quotes."""
    if os.path.isfile(os.path.expanduser(arg)):
        return [arg]
    try:
        return shlex.split(arg)
    except ValueError as exc:  # an unclosed quote
        raise BadRequest(f"/image: {exc}; quote paths with spaces: /image \"my photo.png\"") from None


def _read(repl, paths: list[str], pending: int) -> list[PendingImage]:
    """The images, checked as ``ask -a`` checks them; all or none."""
    from chatthy import config
    from chatthy.cli.tool_activity import attachments_of
    from chatthy.tools.image_files import dimensions, sniff

    limits = config.load(repl.paths.config_file).images
    if pending + len(paths) > limits.max_per_message:
        raise BadRequest(f"{pending + len(paths)} images; at most {limits.max_per_message} per message "
                         f"([images] max_per_message){f': {pending} already waiting' if pending else ''}")
    for path in paths:
        full = os.path.expanduser(path)
        # A FIFO or a device would be read forever (or wrongly): only files are images.
        if os.path.exists(full) and not os.path.isdir(full) and not os.path.isfile(full):
            raise BadRequest(f"{path}: not a regular file")
    try:
        checked = attachments_of(repl, tuple(paths))
    except OSError as exc:  # what read_image_file does not word itself (a name too long, a loop…)
        raise BadRequest(f"{exc.filename or paths[0]}: {exc.strerror or exc}") from None
    out = []
    for path, encoded in zip(paths, checked):
        data = base64.b64decode(encoded)
        mime = sniff(data)
        width, height = dimensions(data, mime) or (None, None)
        out.append(PendingImage(path, encoded, mime, len(data), width, height))
    return out


def _describe(image: PendingImage) -> str:
    size = f"{image.size / 1024:.0f} KB" if image.size >= 1024 else f"{image.size} B"
    pixels = f" {image.width}×{image.height}" if image.width and image.height else ""
    return f"{neutralise(image.path)} ({image.mime}{pixels}, {size})"


def _count(n: int) -> str:
    return f"{n} image{'s' * (n != 1)}"


@command("image", usage="[PATH…|clear]",
         help="Attach images (PNG, JPEG, GIF, WebP) to your next message; alone: list them; clear: drop them",
         aliases=("img",), complete="path")
async def image(repl, arg: str) -> None:
    modes = repl.modes
    if not arg:
        if not modes.images:
            repl.screen.note("no images waiting: /image PATH… attaches some to your next message")
            return
        repl.screen.note(f"{_count(len(modes.images))} go with your next message (/image clear drops them):")
        for n, pending in enumerate(modes.images, 1):
            repl.screen.note(f"  {n}. {_describe(pending)}")
        return
    if arg.lower() == "clear":
        dropped = len(modes.images)
        modes.images = []
        repl.screen.note(f"dropped {_count(dropped)}" if dropped else "no images were waiting")
        return
    added = await asyncio.to_thread(_read, repl, _paths(arg), len(modes.images))
    modes.images = [*modes.images, *added]
    what = ", ".join(_describe(i) for i in added)
    repl.screen.note(f"📎 {what}: {'it goes' if len(added) == 1 else 'they go'} with your next message"
                     + (f" ({_count(len(modes.images))} in all)" if len(modes.images) > len(added) else ""))


def settle(repl, worker, kind: str, data) -> None:
    """An event of our ask: once it started, its images are the chat's; refused, they wait again."""
    sending = repl.modes.images_sent
    if sending is None or sending[0] is not worker:
        return
    if kind == "event" and isinstance(data, dict) and data.get("kind") == "start":
        repl.modes.images_sent = None
    elif kind in ("end", "error"):
        repl.modes.images_sent = None
        if kind == "error":  # before it started: the question was not asked
            images = sending[1]
            repl.modes.images = [*images, *repl.modes.images]
            repl.flash(f"{_count(len(images))} kept for your next message")
