"""profile.list, profile.show, profile.create, profile.delete.

Which profile is *current* is the client's business (``chatthy/cli/state.py``);
``current`` in ``profile.list`` only marks the one the client names.
"""

from __future__ import annotations

from chatthy.server.lookup import profile_of
from chatthy.server.params import Name
from chatthy.server.registry import method
from chatthy.store.profile_stats import chats_per_profile, personalities_per_profile


def _profile_dict(profile, chats: dict[int, int], personas: dict[int, int]) -> dict:
    return {"name": profile.name, "chats": chats.get(profile.id, 0),
            "personalities": personas.get(profile.id, 0), "created": profile.created}


@method("profile.list", current=Name())
async def profile_list(ctx, p):
    d = ctx.daemon
    d.store.get_or_create_profile("default")
    chats = chats_per_profile(d.store.conn)
    personas = personalities_per_profile(d.store.conn)
    out = []
    for profile in d.store.list_profiles():
        row = _profile_dict(profile, chats, personas)
        if p["current"] is not None:
            row["current"] = profile.name == p["current"]
        out.append(row)
    return out


@method("profile.show", name=Name(required=True))
async def profile_show(ctx, p):
    d = ctx.daemon
    profile = profile_of(d, p["name"])
    return _profile_dict(profile, chats_per_profile(d.store.conn), personalities_per_profile(d.store.conn))


@method("profile.create", name=Name(required=True))
async def profile_create(ctx, p):
    d = ctx.daemon
    profile = d.store.create_profile(p["name"])
    return _profile_dict(profile, {}, {})


@method("profile.delete", name=Name(required=True))
async def profile_delete(ctx, p):
    """Delete a profile with all its chats and personalities (replies in flight are cancelled)."""
    d = ctx.daemon
    profile = profile_of(d, p["name"])
    counts = _profile_dict(profile, chats_per_profile(d.store.conn), personalities_per_profile(d.store.conn))
    for gen in list(d.generations.active.values()):
        chat = d.store.get_chat_by_id(gen.chat_id)
        if chat is not None and chat.profile_id == profile.id:
            gen.cancel()
            await gen.finished.wait()
    d.store.delete_profile(profile.name)
    return {"deleted": profile.name, "chats": counts["chats"], "personalities": counts["personalities"]}
