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
