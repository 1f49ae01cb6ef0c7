"""/persona, /profile, /provider, /model (the chat's settings); /style, /latex,
/raw, /multiline, /keys (this REPL's display and editing)."""

from __future__ import annotations

from chatthy.errors import BadRequest, NotFound
from chatthy.repl.commands import command


async def _update_chat(repl, field: str, value: str, label: str) -> None:
    """Change a chat setting: for good on an existing chat, or for its first message."""
    info = repl.chat
    pending_key = {"personality": "persona"}.get(field, field)
    if not info.exists:
        if field == "provider" and value not in repl.names.providers:
            raise NotFound(f"unknown provider {value!r} (configured: {', '.join(repl.names.providers)})")
        if field == "personality" and repl.names.personalities and value not in repl.names.personalities:
            raise NotFound(f"no personality {value!r} (see /persona)")
        info.pending[pending_key] = value
        if field == "provider":
            info.pending.pop("model", None)
        repl.screen.note(f"{label} {value} (for this new chat, from its first message)")
        repl.refresh_budget()
        return
    if repl.live.streaming:
        raise BadRequest(f"/{label} waits until the reply is done (Ctrl-C cancels it)")
    data = await repl.call("chat.update", profile=repl.profile, name=info.name, **{field: value})
    info.apply(data)
    repl.screen.note(f"{label} {data.get(field) or value} for chat {info.name}")
    repl.refresh_budget()


def _list(repl, title: str, names: list[str], current: str | None) -> None:
    lines = [title] + [("* " if n == current else "  ") + n for n in names]
    repl.screen.print("\n".join(lines) + "\n")


@command("persona", usage="[NAME]", help="Switch the chat's personality (system prompt); without NAME: list them",
         aliases=("personality",), complete="persona")
async def persona(repl, arg: str) -> None:
    if arg:
        await _update_chat(repl, "personality", arg, "personality")
        return
    rows = await repl.call("persona.list", profile=repl.profile)
    repl.names.personalities = [r["name"] for r in rows]
    current = repl.chat.pending.get("persona") or repl.chat.personality
    _list(repl, "personalities (* = this chat's):", repl.names.personalities, current)


@command("provider", usage="[NAME]", help="Switch the chat's provider; without NAME: list them", complete="provider")
async def provider(repl, arg: str) -> None:
    if arg:
        await _update_chat(repl, "provider", arg, "provider")
        return
    current = repl.chat.pending.get("provider") or repl.chat.provider
    _list(repl, "providers (* = this chat's):", repl.names.providers, current)


@command("model", usage="[NAME]", help="Switch the chat's model; without NAME: list the provider's models",
         complete="model")
async def model(repl, arg: str) -> None:
    if arg:
        await _update_chat(repl, "model", arg, "model")
        return
    provider_name = repl.chat.pending.get("provider") or repl.chat.provider
    rows = await repl.call("models.list", provider=provider_name)
    repl.names.add_models(rows)
    current = repl.chat.pending.get("model") or repl.chat.model
    names = [r["model"] for r in rows]
    errors = {r["error"] for r in rows if r.get("error")}
    _list(repl, f"models of {provider_name} (* = this chat's):", names, current)
    for error in errors:
        repl.screen.note(f"(the provider's list is unavailable: {error})")


@command("profile", usage="[NAME]", help="Switch to profile NAME (its own chats and personalities); without NAME: list",
         complete="profile")
async def profile(repl, arg: str) -> None:
    if not arg:
        rows = await repl.call("profile.list")
        _list(repl, "profiles (* = current):", [r["name"] for r in rows], repl.profile)
        return
    if repl.live.streaming:
        raise BadRequest("/profile waits until the reply is done (Ctrl-C cancels it)")
    data = await repl.call("repl.names", profile=arg)  # refuses an unknown profile
    repl.profile = data["profile"]
    repl.names.update(data)
    await repl.switch_chat(None, show=0)
    repl.screen.note(f"profile {repl.profile}: a new chat (/chats lists this profile's chats)")


def _on_off(arg: str, current: bool, what: str) -> bool:
    if not arg:
        return not current
    if arg.lower() in ("on", "yes", "true", "1"):
        return True
    if arg.lower() in ("off", "no", "false", "0"):
        return False
    raise BadRequest(f"/{what} takes on or off")


@command("latex", usage="[on|off]", help="Show LaTeX math as Unicode (display only; the chat keeps LaTeX)",
         complete="onoff")
async def latex(repl, arg: str) -> None:
    repl.modes.latex = _on_off(arg, repl.modes.latex, "latex")
    repl.screen.note(f"LaTeX rendering {'on' if repl.modes.latex else 'off'}")


@command("raw", usage="[on|off]", help="Show replies exactly as the model writes them (no Markdown, no LaTeX)",
         complete="onoff")
async def raw(repl, arg: str) -> None:
    repl.modes.raw = _on_off(arg, repl.modes.raw, "raw")
    repl.screen.note(f"raw output {'on' if repl.modes.raw else 'off'}")


@command("multiline", usage="[on|off]", help="Multiline input: Enter adds a line, Alt-Enter sends (also F3)",
         complete="onoff")
async def multiline(repl, arg: str) -> None:
    repl.modes.multiline = _on_off(arg, repl.modes.multiline, "multiline")
    repl.screen.note(f"multiline {'on: Alt-Enter or Esc Enter sends' if repl.modes.multiline else 'off'}")


@command("style", usage="[NAME]", help="Pygments style for code and Markdown; without NAME: list them",
         complete="style")
async def style(repl, arg: str) -> None:
    from chatthy.render.theme import Theme, style_names

    if not arg:
        _list(repl, "styles (* = current; also --style or CHATTHY_STYLE):", style_names(), repl.theme.name)
        return
    try:
        Theme.from_style(arg)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    repl.modes.style = arg
    repl.screen.note(f"style {arg}" + ("" if repl.modes.color else " (colours are off: NO_COLOR or not a terminal)"))


@command("keys", usage="[emacs|vi]", help="Editing keys: emacs (default) or vi", complete=("emacs", "vi"))
async def keys(repl, arg: str) -> None:
    if arg not in ("", "emacs", "vi"):
        raise BadRequest("/keys takes emacs or vi")
    vi = (not repl.modes.vi) if not arg else arg == "vi"
    repl.set_editing_mode(vi)
    repl.screen.note(f"{'vi' if vi else 'emacs'} editing keys")
