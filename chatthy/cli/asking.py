"""What ``chatthy ask`` does once its arguments are parsed: read the prompt,
stream the reply, show the status line.

Click-free: both the Click command (ask.py) and the fast path (fastpath.py)
call ``run_ask``, so the two ways in share every behaviour but the parsing.
"""

from __future__ import annotations

import os
import sys

from chatthy.cli.output import color_enabled, is_tty, note, write_text
from chatthy.errors import BadRequest, Cancelled, errors_for_status

MAX_STDIN = 8 * 1024 * 1024


def read_prompt(words: tuple[str, ...]) -> str:
    """Prompt words first, then piped stdin (``chatthy ask summarise < file``)."""
    parts = [" ".join(words)] if words else []
    if not is_tty(sys.stdin):
        data = sys.stdin.buffer.read(MAX_STDIN + 1)
        if len(data) > MAX_STDIN:
            from chatthy.errors import TooLarge

            raise TooLarge(f"stdin is larger than {MAX_STDIN // (1024 * 1024)} MiB")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"stdin is not UTF-8 text (invalid byte at offset {exc.start})") from None
        if text.strip():
            parts.append(text)
    prompt = "\n\n".join(parts)
    if not prompt.strip():
        raise BadRequest("nothing to ask: give a prompt, or pipe text on stdin")
    return prompt


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_options(items) -> dict:
    """``-o KEY=VALUE`` pairs: VALUE as JSON where it is (0.2, true, ["x"]), else as text."""
    from chatthy.wire.json_codec import loads

    options: dict = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise BadRequest(f"-o {item!r}: expected KEY=VALUE (e.g. -o temperature=0.2)")
        try:
            options[key.strip()] = loads(value, parse_constant=_not_a_number)
        except ValueError:
            options[key.strip()] = value  # text: -o stop=END (and NaN, which JSON cannot carry)
    return options


def run_ask(app, prompt: tuple[str, ...] = (), chat=None, cont=False, new=False, provider=None, model=None,
            system=None, no_stream=False, quiet=False, files=(), template=None, variables=(), persona=None,
            edit_last=False, rag=None, tool_names=(), tools_mode=None, attach=(), approve=False,
            verbose=False, raw=False, api_options=()) -> None:
    """Ask PROMPT (words, then stdin if piped); the answer streams to stdout."""
    if cont:
        if chat:
            raise BadRequest("give -c NAME or --continue, not both")
        from chatthy.cli.state import ClientState

        chat = ClientState.load(app.paths).chat
        if not chat:
            raise BadRequest("no current chat yet: ask something first, or pick one with `chatthy chat use NAME`")
    if rag and not prompt and not (files or template):
        prompt, rag = (rag,), ""  # `ask --rag "question"`: the value was the prompt, and is the query
    if files or template or variables:
        from chatthy.cli.documents import compose_prompt

        composed = compose_prompt(app, prompt, files, template, variables)
        text = composed.prompt
        system, provider, model = system or composed.system, provider or composed.provider, model or composed.model
    else:
        text = read_prompt(prompt)
    if edit_last and not chat:
        raise BadRequest("--edit-last needs the chat: -c NAME or --continue")
    from chatthy.cli.tool_activity import ToolActivity, attachments_of, tool_choice

    stream = app.client.stream("ask", profile=app.current_profile(), chat=chat, new=new or None,
                               prompt=text, provider=provider, model=model, system=system,
                               persona=persona, edit_last=edit_last or None, rag=rag,
                               tools=tool_choice(tool_names, tools_mode), attachments=attachments_of(app, attach),
                               options=parse_options(api_options) or None)
    activity = ToolActivity(app.client, verbose=verbose, approve=approve)
    try:
        result = follow_reply(stream, no_stream=no_stream, quiet=quiet, events=activity.handle, raw=raw)
    finally:
        if stream.start and stream.start.get("chat"):  # the chat exists now, whatever became of the reply
            from chatthy.cli.state import ClientState

            ClientState.remember(app.paths, app.profile, stream.start["chat"])  # one read of the state file
    if rag is not None:
        from chatthy.cli.vdb import print_citations

        print_citations(result.get("rag"))


def follow_reply(stream, *, no_stream: bool = False, quiet: bool = False, events=None, raw: bool = False) -> dict:
    """Print a streaming reply (ask, chat retry, chat edit) to stdout as it comes.

    On a terminal the reply is rendered (Markdown, highlighted code, LaTeX as
    Unicode: on screen only, the chat keeps the text); ``raw``, or stdout not
    a terminal: the text as the model wrote it. Ctrl-C cancels the generation
    (the partial text stays in the chat); a reply that did not complete raises
    its error; the status line goes to stderr. ``events(data, at_line_start)``
    sees the stream's events (tool activity: chatthy/cli/tool_activity.py).
    Returns the data of the closing frame.
    """
    if not raw and renders_on(sys.stdout):
        result = _follow_rendered(stream, no_stream=no_stream, events=events)
    else:
        result = _follow_plain(stream, no_stream=no_stream, events=events)
    err = errors_for_status(result)
    if err is not None:
        raise err
    if not quiet and stream.start:
        usage = result.get("usage") or {}
        tokens = f" · {usage.get('input_tokens')}→{usage.get('output_tokens')} tokens" if usage.get("output_tokens") else ""
        dropped = stream.start.get("dropped") or 0
        summary = stream.start.get("summary")
        fitted = (f" · {dropped} old message{'s' * (dropped != 1)} "
                  f"{'summarised' if summary else 'dropped'}") if dropped else ""
        note(f"[{stream.start['chat']} · {stream.start['provider']}/{stream.start['model']}{tokens}{fitted}]")
    return result


def renders_on(out) -> bool:
    """Render replies on ``out``? A terminal that can move its cursor (not TERM=dumb, e.g. Emacs' shell)."""
    return is_tty(out) and os.environ.get("TERM") != "dumb"


def _cancelled(stream) -> Cancelled:
    """Ctrl-C: ask the daemon to stop, and read on to the closing frame (the partial reply is saved)."""
    from chatthy.wire.errors import WireError

    stream.cancel()
    try:
        for _ in stream:
            pass
    except KeyboardInterrupt:
        pass
    except WireError:
        # A last resort only: the stream holds Ctrl-C while it reads, checks and
        # reorders a frame (chatthy/deferred_sigint.py), so cancelling loses no
        # frame. Should the stream still not add up at its end, the user asked to
        # stop, and the daemon has the text.
        pass
    return Cancelled("cancelled: the partial reply is kept in the chat")


def _follow_plain(stream, *, no_stream: bool, events) -> dict:
    """The text as it comes (control characters neutralised on a terminal): pipes get the model's bytes."""
    wrote_newline = True
    try:
        for kind, data in stream:
            if kind == "chunk" and not no_stream:
                piece = data.get("text", "")
                if piece:
                    write_text(piece)
                    wrote_newline = piece.endswith("\n")
            elif kind == "event" and events is not None:
                events(data, wrote_newline)
    except KeyboardInterrupt:
        cancelled = _cancelled(stream)
        if not wrote_newline:
            sys.stdout.write("\n")
        raise cancelled from None
    if no_stream and stream.text:
        write_text(stream.text)
        wrote_newline = stream.text.endswith("\n")
    if not wrote_newline:
        sys.stdout.write("\n")
    sys.stdout.flush()
    return stream.result or {}


def _follow_rendered(stream, *, no_stream: bool, events) -> dict:
    screen = RenderedReply(sys.stdout)
    try:
        try:
            for kind, data in stream:
                if kind == "chunk" and not no_stream:
                    screen.write(data.get("text", ""))
                elif kind == "event" and events is not None:
                    screen.aside(events, data)
        except KeyboardInterrupt:
            raise _cancelled(stream) from None
        if no_stream and stream.text:
            # Whole lines only: the text is drawn once, with no provisional last line to redraw.
            screen.write(stream.text if stream.text.endswith("\n") else stream.text + "\n")
    finally:
        screen.close()  # also before an error's line: what came stays readable above it
    return stream.result or {}


class RenderedReply:
    """A reply drawn on the terminal by chatthy.render's StreamRenderer.

    The style is the REPL's: ``CHATTHY_STYLE``, else one that suits the
    terminal's background; no colour (--color never, NO_COLOR) shows the
    Markdown as written, with LaTeX still converted. chatthy.render (and
    Pygments) is imported here only: replies going to a pipe never load it.
    """

    def __init__(self, out) -> None:
        import threading

        self.out = out
        self.held = HeldInterrupt()
        self.line_open = False  # the text so far ends inside a line
        self.owed_newline = False  # a line ended early for a stderr line; the text's own "\n" is still to come
        self._renderer = None
        self._failed: BaseException | None = None
        # The renderer's imports (its modules, wcwidth, pylatexenc, Pygments' styles) take
        # ~40 ms: made while the request goes out and the model starts, they are not
        # added before the first word.
        self._preparing: threading.Thread | None = threading.Thread(target=self._prepare, daemon=True)
        self._preparing.start()

    def _prepare(self) -> None:
        try:
            from chatthy.render.markdown import render_markdown
            from chatthy.render.stream import StreamRenderer
            from chatthy.render.theme import Theme, default_style_name

            theme = Theme.plain()
            if color_enabled(self.out):
                try:
                    theme = Theme.from_style(None)
                except ValueError as exc:  # a CHATTHY_STYLE Pygments does not know
                    note(f"CHATTHY_STYLE is ignored: {exc}")
                    theme = Theme.from_style(default_style_name({k: v for k, v in os.environ.items()
                                                                 if k != "CHATTHY_STYLE"}))
            self._renderer = StreamRenderer(self.out, theme=theme, latex=True)
            render_markdown("*a* `b` $\\alpha^2$ é", theme, width=40)  # loads what emphasis, maths, widths need
        except BaseException as exc:  # noqa: BLE001 - raised where the renderer is first used
            self._failed = exc

    @property
    def renderer(self):
        if self._preparing is not None:
            self._preparing.join()
            self._preparing = None
            if self._failed is not None:
                raise self._failed
        return self._renderer

    def write(self, piece: str) -> None:
        if self.owed_newline:
            self.owed_newline = False
            if piece.startswith("\n"):
                piece = piece[1:]
        if not piece:
            return
        with self.held:
            self.renderer.feed(piece)
        self.line_open = not piece.endswith("\n")

    def aside(self, handle, data: dict) -> None:
        """Let ``handle`` print on stderr: on the same terminal the reply first steps to a line start.

        Tool events come between rounds, where the daemon separates the rounds'
        text with a blank line; the open line is ended now, and the "\n" that
        follows in the text is then not shown twice.
        """
        if not is_tty(sys.stderr):
            handle(data, not self.line_open)
            return
        with self.held:
            if self.line_open:
                self.renderer.feed("\n")
                self.line_open, self.owed_newline = False, True
            self.renderer.clear_tail()  # a block still open (math, a table) is drawn again below
        handle(data, True)
        with self.held:
            self.renderer.redraw_tail()

    def close(self) -> None:
        """Draw what is left; the terminal ends on a fresh line with its style reset."""
        try:
            with self.held:
                self.renderer.finish()
        except KeyboardInterrupt:
            pass  # already stopping; the drawing itself was completed
        self.out.flush()


class HeldInterrupt:
    """Ctrl-C during a drawing step takes effect once the step is done.

    Interrupted halfway, a step would leave half an escape sequence, or a
    provisional line it can no longer erase, on the screen. Waiting for the
    next frame is never held up: only the drawing is.
    """

    def __init__(self) -> None:
        import signal

        self.signal = signal
        self.pending = False
        self.active = signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def _hold(self, signum, frame) -> None:
        self.pending = True

    def __enter__(self) -> None:
        if self.active:
            try:
                self.signal.signal(self.signal.SIGINT, self._hold)
            except ValueError:  # not the main thread: signals are not ours to handle
                self.active = False

    def __exit__(self, *exc) -> None:
        if self.active:
            self.signal.signal(self.signal.SIGINT, self.signal.default_int_handler)
            if self.pending:
                self.pending = False
                raise KeyboardInterrupt
