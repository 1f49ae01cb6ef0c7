"""Request handlers, one module per family; importing this registers them all."""

from chatthy.server.handlers import ask, chats, session  # noqa: F401
