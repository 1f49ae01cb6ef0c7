"""What the REPL knows: where it is (profile, chat, its settings) and its modes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReplOptions:
    """Start-up choices (``chatthy repl`` options)."""

    profile: str = "default"
    chat: str | None = None  # None: the current chat (``chat use``), unless ``new``
    new: bool = False
    style: str | None = None
    color: bool | None = None  # None: decide from the terminal and NO_COLOR
    latex: bool = True
    raw: bool = False
    vi: bool = False
    multiline: bool = False


@dataclass
class ChatInfo:
    """The current chat as the toolbar shows it; ``exists`` False until its first message."""

    name: str | None = None
    exists: bool = False
    personality: str = "default"
    provider: str | None = None
    model: str | None = None
    used: int | None = None
    context_length: int | None = None
    budget: int | None = None
    # Settings chosen before the chat exists, sent with its first message.
    pending: dict = field(default_factory=dict)

    def apply(self, data: dict) -> None:
        """Take chat fields from a daemon answer (chat.get, chat.update, chat.tokens, events)."""
        for key in ("personality", "provider", "model", "context_length", "budget", "used"):
            if data.get(key) is not None:
                setattr(self, key, data[key])


@dataclass(frozen=True)
class PendingApproval:
    """A tool call of our reply waiting for the user's y / n / a."""

    call_id: str
    tool: str


@dataclass(frozen=True)
class PendingImage:
    """An image ``/image`` read and checked, waiting for the next question."""

    path: str
    data: str  # base64: what the ask's ``attachments`` takes
    mime: str
    size: int  # bytes
    width: int | None
    height: int | None


@dataclass
class Modes:
    command: bool = False  # every line is a command, no leading "/" needed
    multiline: bool = False
    vi: bool = False
    latex: bool = True
    raw: bool = False
    style: str | None = None
    color: bool = True
    editing: str | None = None  # /edit: the question being replaced
    rag: bool = False  # /rag on: every question is answered with retrieval
    rag_next: str | None = None  # /rag QUERY: the next question searches QUERY
    images: list[PendingImage] = field(default_factory=list)  # /image: go with the next question
    images_sent: tuple | None = None  # (worker, images) of the ask in flight, until it starts
    approval: PendingApproval | None = None  # a confirm tool waiting for y / n / a (chatthy/repl/tool_notes.py)
    options: dict = field(default_factory=dict)  # /option: API parameters of every question (and /retry)

    def take_rag(self) -> str | None:
        """The ``rag`` of the question being sent: "" searches with the question; None: no retrieval.

        A ``/rag QUERY`` applies once, so it is used up here.
        """
        query, self.rag_next = self.rag_next, None
        if query is not None:
            return query
        return "" if self.rag else None

    def take_images(self) -> list[PendingImage]:
        """The ``/image`` images of the question being sent; they go with this one only."""
        images, self.images = self.images, []
        return images
