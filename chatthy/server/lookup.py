"""Resolving the names in a request (profile, chat) into rows, with clear errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatthy.errors import NotFound

if TYPE_CHECKING:
    from chatthy.server.daemon import Daemon


def profile_of(daemon: Daemon, name: str | None):
    name = name or "default"
    if name == "default":
        return daemon.store.get_or_create_profile(name)
    try:
        return daemon.store.profile(name)
    except NotFound:
        raise NotFound(f"profile {name!r} not found: create it with `chatthy profile create {name}`") from None


def chat_of(daemon: Daemon, profile, name: str):
    chat = daemon.store.get_chat(profile.id, name)
    if chat is None:
        raise NotFound(f"chat {name!r} not found in profile {profile.name!r} (see `chatthy chat list`)")
    return chat
