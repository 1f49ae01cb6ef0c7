"""``chatthy repl``: the interactive client.

An inline prompt (the terminal keeps its scrollback) with a bottom toolbar;
replies stream above it while the user may already type the next line. The
REPL is a client of the daemon like any other: it never imports the daemon
side. See ``live`` for how replies from this and other clients are shown,
``screen`` for printing above the prompt, ``commands`` for the command table.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app_or_none
from prompt_toolkit.enums import EditingMode

from chatthy.errors import BadRequest, ChatthyError, NotFound
from chatthy.paths import Paths
from chatthy.render.markdown import MarkdownStream
from chatthy.render.sanitise import neutralise
from chatthy.render.theme import Theme
from chatthy.repl import commands, display
from chatthy.repl.completion import Names
from chatthy.repl.link import DaemonLink, StreamWorker
from chatthy.repl.live import LiveChat
from chatthy.repl.prompt import build_session
from chatthy.repl.screen import Screen
from chatthy.repl.state import ChatInfo, Modes, PendingApproval, ReplOptions

# A tool waiting for approval is answered as `chatthy ask` answers it: y, n or a
# (or the word) and Enter; Enter alone is no.
APPROVAL_ANSWERS = {"": "no", "y": "yes", "yes": "yes", "n": "no", "no": "no", "a": "always", "always": "always"}


def _approval_hint(tool: str) -> str:
    return f"{tool} wants to run: y runs it, n refuses, a runs it and stops asking in this chat"


FLASH_SECONDS = 3.0
RECENT_MESSAGES = 4


class Repl:
    def __init__(self, options: ReplOptions, paths: Paths, *, autostart: bool = True,
                 input=None, output=None) -> None:
        self.options = options
        self.paths = paths
        self.profile = options.profile
        self.chat = ChatInfo(name=options.chat)
        self.modes = Modes(multiline=options.multiline, vi=options.vi, latex=options.latex,
                           raw=options.raw, style=options.style)
        self.link = DaemonLink(paths, autostart=autostart)
        self.names = Names()
        self.live = LiveChat(self)
        self.next_default = ""
        self.terminal_input, self.terminal_output = input, output
        self.flash_state: tuple[str, float] | None = None
        self._theme: tuple[tuple, Theme] | None = None
        self._api_models_asked = False
        self._tasks: set[asyncio.Task] = set()
        self.session: PromptSession | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.screen: Screen | None = None
        self.quitting = False

    # -- looks --------------------------------------------------------------------
    @property
    def theme(self) -> Theme:
        key = (self.modes.style, self.modes.color)
        if self._theme is None or self._theme[0] != key:
            theme = Theme.plain()
            if self.modes.color:
                try:
                    theme = Theme.from_style(self.modes.style)
                except ValueError as exc:
                    self.modes.style = None
                    self.show_error(BadRequest(str(exc)))
                    theme = Theme.from_style(None)
            self._theme = (key, theme)
        return self._theme[1]

    def width(self) -> int:
        try:
            return max(20, self.session.output.get_size().columns) if self.session else 80
        except Exception:
            return 80

    def new_markdown(self) -> MarkdownStream:
        if self.modes.raw:
            return MarkdownStream(Theme.plain(), latex=False, markdown=False, width=None)
        return MarkdownStream(self.theme, latex=self.modes.latex, width=self.width() - 1)

    def flash(self, message: str) -> None:
        """A short message in the toolbar (it goes away by itself)."""
        self.flash_state = (message, time.monotonic() + FLASH_SECONDS)
        app = get_app_or_none()
        if app is not None and app.is_running:
            app.invalidate()

    def show_error(self, exc: Any) -> None:
        message = exc.message if isinstance(exc, ChatthyError) else str(exc)
        self.screen.note("error: " + neutralise(" ".join(message.split())), self.theme.error if self.modes.color else "")

    def set_editing_mode(self, vi: bool) -> None:
        self.modes.vi = vi
        if self.session is not None:
            self.session.editing_mode = EditingMode.VI if vi else EditingMode.EMACS
            self.session.app.editing_mode = self.session.editing_mode

    # -- background work ------------------------------------------------------------
    def spawn(self, coro) -> None:
        """Run ``coro`` in the background (from the loop, or any thread: a completer may run in one)."""
        def start() -> None:
            task = self.loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            start()
        else:
            self.loop.call_soon_threadsafe(start)

    async def call(self, method: str, **params: Any) -> Any:
        return await self.link.call(method, **params)

    def refresh_budget(self) -> None:
        async def refresh() -> None:
            chat = self.chat
            try:
                data = await self.call("chat.tokens", profile=self.profile,
                                       name=chat.name if chat.exists else None,
                                       provider=chat.pending.get("provider"), model=chat.pending.get("model"))
            except ChatthyError:
                return
            chat.apply(data)
            self.redraw()

        self.spawn(refresh())

    def refresh_names(self) -> None:
        async def refresh() -> None:
            try:
                self.names.update(await self.call("repl.names", profile=self.profile))
            except ChatthyError:
                pass

        self.spawn(refresh())

    def want_api_models(self) -> None:
        """The first time a model is completed, ask the providers' APIs in the background."""
        if self._api_models_asked:
            return
        self._api_models_asked = True

        async def fetch() -> None:
            try:
                self.names.add_models(await self.call("models.list"))
            except ChatthyError:
                pass

        self.spawn(fetch())

    def redraw(self) -> None:
        """Draw the prompt and toolbar again (a mode changed)."""
        app = get_app_or_none()
        if app is not None and app.is_running:
            app.invalidate()

    # -- events from the daemon ---------------------------------------------------------
    async def _pump(self, events: asyncio.Queue) -> None:
        while True:
            worker, kind, data = await events.get()
            try:
                self._dispatch(worker, kind, data)
            except Exception as exc:  # one bad event must not end the REPL
                self.show_error(f"internal error while showing an event: {type(exc).__name__}: {exc}")

    def _dispatch(self, worker: StreamWorker, kind: str, data: Any) -> None:
        if worker.tag == "ask":
            if self.modes.images_sent is not None:  # /image: they wait again if the question is refused
                from chatthy.repl.commands.image import settle

                settle(self, worker, kind, data)
            self.live.on_own(worker, kind, data)
        elif worker.tag == "watch":
            self.live.on_watch(worker, kind, data)
        elif worker.tag == "attach":
            self.live.on_attach(worker, kind, data)

    def on_own_start(self, data: dict) -> None:
        """Our ask started: a new chat now has its name; the toolbar learns the budget."""
        chat = self.chat
        name = data.get("chat")
        if name and (name != chat.name or not chat.exists):
            chat.name, chat.exists = name, True
            chat.pending.clear()
            self.remember_chat()
            self.live.watch(name)
            self.refresh_names()
        chat.provider = data.get("provider") or chat.provider
        chat.model = data.get("model") or chat.model
        if data.get("tokens") is not None:
            chat.used = data["tokens"]

    def on_chat_updated(self, event: dict) -> None:
        self.chat.apply(event)
        self.refresh_budget()

    def inject(self, event: dict) -> None:
        """``source.inject``: text offered to this REPL's input line."""
        text = str(event.get("text") or "")
        if not text:
            return
        app = get_app_or_none()
        if app is not None and app.is_running and self.session is not None:
            self.session.default_buffer.insert_text(text)
        else:
            self.next_default += text
        what = event.get("name") or event.get("title") or event.get("source") or "text"
        self.flash(f"inserted {neutralise(str(what))} ({len(text):,} characters)")

    # -- chats ------------------------------------------------------------------------
    def remember_chat(self) -> None:
        """The REPL's chat is the current chat (``chatthy ask -C`` continues it)."""
        from chatthy.cli.state import ClientState

        state = ClientState.load(self.paths)
        if state.chat != self.chat.name or state.profile != self.profile:
            state.chat, state.profile = self.chat.name, self.profile
            state.save(self.paths)

    async def switch_chat(self, name: str | None, *, show: int = RECENT_MESSAGES) -> None:
        """Make ``name`` the current chat (None: a new one named by its first message)."""
        info = None
        if name is not None:
            try:
                info = await self.call("chat.get", profile=self.profile, name=name)
            except NotFound:
                info = None
        self.chat = ChatInfo(name=name, exists=info is not None)
        if info:
            self.chat.apply(info)
        self.live.watch(name if info else None, recent=show)  # its first event shows the history
        if name is not None:
            self.remember_chat()
        self.refresh_budget()

    async def show_recent(self, count: int) -> None:
        data = await self.call("chat.show", profile=self.profile, name=self.chat.name)
        messages = data.get("messages") or []
        if data.get("generating") and messages and messages[-1].get("role") == "assistant":
            messages = messages[:-1]  # the reply in progress is shown live, from its start
        shown = messages[-count:] if count > 0 else messages
        if len(messages) > len(shown):
            self.screen.note(f"─ {len(messages) - len(shown)} earlier messages (/show N to see more)")
        for message in shown:
            display.show_message(self, message)

    def require_chat(self) -> str:
        if not self.chat.exists or not self.chat.name:
            raise BadRequest("this chat has no messages yet")
        return self.chat.name

    # -- tool approvals ---------------------------------------------------------------------
    def ask_approval(self, call_id: str, tool: str) -> None:
        """A tool of our reply asks to run: the prompt asks the user (y / n / a)."""
        self.modes.approval = PendingApproval(call_id, tool)
        self.flash(_approval_hint(tool))

    def approval_settled(self, call_id: str | None = None) -> None:
        """Answered (here or elsewhere), timed out, or the reply ended: stop asking."""
        pending = self.modes.approval
        if pending is not None and (call_id is None or pending.call_id == call_id):
            self.modes.approval = None
            if self.flash_state and self.flash_state[0] == _approval_hint(pending.tool):
                self.flash_state = None  # its hint is stale now
            app = get_app_or_none()
            if app is not None and app.is_running:
                app.invalidate()

    def answer_approval(self, answer: str) -> None:
        pending = self.modes.approval
        if pending is None:
            return
        self.approval_settled()

        async def send() -> None:
            try:
                await self.call("tools.approve", call_id=pending.call_id, answer=answer)
            except ChatthyError as exc:  # timed out or the reply went away meanwhile
                self.show_error(exc)

        self.spawn(send())

    # -- input ----------------------------------------------------------------------------
    async def handle(self, text: str) -> None:
        if self.modes.approval is not None and text.strip().lower() in APPROVAL_ANSWERS:
            self.answer_approval(APPROVAL_ANSWERS[text.strip().lower()])
            return
        if self.modes.editing is not None:
            self.modes.editing = None
            if not text.strip():
                self.screen.note("edit abandoned")
                return
            self.send(text, edit=True)
            return
        stripped = text.strip()
        if not stripped:
            return
        if stripped.startswith("//"):
            self.send(text.replace("//", "/", 1))
            return
        if self.modes.command or stripped.startswith("/"):
            await self.run_command(stripped)
            return
        self.send(text)

    async def run_command(self, line: str) -> None:
        name, arg = commands.parse(line)
        if not name:
            return
        cmd = commands.lookup(name)
        if cmd is None:
            known = [n for n in commands.names() if n.startswith(name[:2].lower())]
            hint = f" (did you mean {', '.join('/' + k for k in known[:3])}?)" if known else ""
            self.show_error(BadRequest(f"unknown command /{name}{hint}; /help lists them"))
            return
        if cmd.idle and self.live.streaming:
            self.show_error(BadRequest(f"/{cmd.name} waits until the reply is done (Ctrl-C cancels it)"))
            return
        try:
            await cmd.func(self, arg)
        except ChatthyError as exc:
            self.show_error(exc)

    def send(self, text: str, *, edit: bool = False) -> None:
        if self.live.streaming:
            self.show_error(BadRequest("a reply is still streaming: wait for it, or Ctrl-C to cancel it"))
            self.next_default = text
            return
        chat = self.chat
        params: dict[str, Any] = {"profile": self.profile, "chat": chat.name, "prompt": text}
        if edit:
            params["edit_last"] = True
        rag = self.modes.take_rag()  # /rag (chatthy/repl/commands/rag.py)
        if rag is not None:
            params["rag"] = rag
        if self.modes.options:  # /option (chatthy/repl/commands/options.py)
            params["options"] = dict(self.modes.options)
        images = self.modes.take_images()  # /image (chatthy/repl/commands/image.py)
        if images:
            params["attachments"] = [i.data for i in images]
        if not chat.exists:
            params.update(chat.pending)
        worker = self.live.start_own("ask", rewrites_history=edit, **params)
        self.modes.images_sent = (worker, images) if images else None

    def start_reply(self, method: str, **params: Any) -> None:
        """A command that regenerates (``/retry``): shown like our own ask."""
        if self.live.streaming:
            raise BadRequest("a reply is still streaming: wait for it, or Ctrl-C to cancel it")
        self.live.start_own(method, rewrites_history=True, **params)

    def _sigint(self) -> None:
        # Only outside the prompt (the prompt reads Ctrl-C as a key).
        if not self.live.cancel():
            self.flash("Ctrl-D or /quit to leave")

    # -- main loop ----------------------------------------------------------------------------
    async def run(self) -> int:
        loop = self.loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        self.link.bind(loop, events)
        self.names.update(await self.call("repl.names", profile=self.profile))  # also: is the daemon there?
        self.session = build_session(self)
        self.screen = Screen(self.session.output)
        if self.options.color is None:
            from chatthy.render.stream import color_wanted

            self.modes.color = color_wanted(self.session.output.stdout if hasattr(self.session.output, "stdout")
                                            else None)
        else:
            self.modes.color = self.options.color
        pump = loop.create_task(self._pump(events))
        sigint = threading.current_thread() is threading.main_thread()
        if sigint:
            loop.add_signal_handler(signal.SIGINT, self._sigint)
        try:
            await self._start_chat()
            while not self.quitting:
                default, self.next_default = self.next_default, ""
                try:
                    text = await self.session.prompt_async(default=default, handle_sigint=False)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                await self.handle(text)
        finally:
            self.live.close()
            await self.screen.drained()
            pump.cancel()
            for task in list(self._tasks):
                task.cancel()
            if sigint:
                loop.remove_signal_handler(signal.SIGINT)
            self.link.close()
        return 0

    async def _start_chat(self) -> None:
        name = self.options.chat
        if name is None and not self.options.new:
            from chatthy.cli.state import ClientState

            state = ClientState.load(self.paths)
            if state.profile == self.profile and state.chat:
                name = state.chat
                try:
                    await self.call("chat.get", profile=self.profile, name=name)
                except NotFound:
                    name = None  # a stale "current chat": start a new one
        await self.switch_chat(name)
        where = f"chat {self.chat.name}" if self.chat.exists else (
            f"new chat {self.chat.name}" if self.chat.name else "a new chat (named by your first message)")
        self.screen.note(f"chatthy · {neutralise(where)} · /help for commands, Ctrl-D to quit")


def run_repl(options: ReplOptions, paths: Paths, *, autostart: bool = True) -> int:
    """Run the REPL on the terminal until the user quits."""
    return asyncio.run(Repl(options, paths, autostart=autostart).run())
