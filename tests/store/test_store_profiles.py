"""Profiles and personalities."""

from __future__ import annotations

import time

import pytest

from chatthy.errors import BadRequest, Conflict, NotFound
from chatthy.store import Personality, Profile


def test_profile_lookup(store):
    default = store.profile("default")
    assert isinstance(default, Profile)
    assert default.name == "default"
    assert store.get_profile("default") == default
    assert store.get_profile("nope") is None


def test_missing_profile_is_not_found(store):
    with pytest.raises(NotFound, match=r"^profile 'work' not found$") as err:
        store.profile("work")
    assert err.value.code == "not_found"


def test_create_profile(store):
    work = store.create_profile("work")
    assert work.name == "work"
    assert work.created.endswith("Z")
    assert store.profile("work") == work
    assert [p.name for p in store.list_profiles()] == ["default", "work"]


def test_create_existing_profile_conflicts(store):
    store.create_profile("work")
    with pytest.raises(Conflict, match=r"^profile 'work' already exists$"):
        store.create_profile("work")
    with pytest.raises(Conflict, match=r"^profile 'default' already exists$"):
        store.create_profile("default")


def test_get_or_create_profile(store):
    made = store.get_or_create_profile("home")
    assert store.get_or_create_profile("home") == made
    assert store.get_or_create_profile("default") == store.profile("default")
    assert len(store.list_profiles()) == 2


def test_list_profiles_sorted_by_name(store):
    for name in ("zeta", "alpha", "mid"):
        store.create_profile(name)
    assert [p.name for p in store.list_profiles()] == ["alpha", "default", "mid", "zeta"]


def test_delete_profile_cascades(store):
    work = store.create_profile("work")
    store.set_personality(work.id, "terse", "Be brief.")
    chat = store.create_chat(work.id, "notes")
    store.add_message(chat.id, "user", "hi")
    store.delete_profile("work")
    assert store.get_profile("work") is None
    for table in ("personalities", "chats", "messages"):
        assert store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_delete_default_profile_is_refused(store):
    with pytest.raises(BadRequest, match=r"^profile 'default' cannot be deleted$"):
        store.delete_profile("default")
    assert store.get_profile("default") is not None


def test_delete_missing_profile_is_not_found(store):
    with pytest.raises(NotFound, match=r"^profile 'ghost' not found$"):
        store.delete_profile("ghost")


def test_profile_to_dict(store):
    default = store.profile("default")
    assert default.to_dict() == {"id": default.id, "name": "default", "created": default.created}


# personalities


def test_set_personality_creates_then_updates(store, default_id):
    first = store.set_personality(default_id, "terse", "Be brief.")
    assert isinstance(first, Personality)
    assert (first.name, first.prompt, first.profile_id) == ("terse", "Be brief.", default_id)
    assert first.created == first.updated
    time.sleep(0.002)
    second = store.set_personality(default_id, "terse", "Be very brief.")
    assert second.id == first.id
    assert second.prompt == "Be very brief."
    assert second.created == first.created
    assert second.updated > first.updated
    assert store.get_personality(default_id, "terse") == second


def test_get_missing_personality_is_none(store, default_id):
    assert store.get_personality(default_id, "nobody") is None


def test_personalities_are_per_profile(store, default_id):
    work = store.create_profile("work")
    store.set_personality(default_id, "terse", "default prompt")
    store.set_personality(work.id, "terse", "work prompt")
    assert store.get_personality(default_id, "terse").prompt == "default prompt"
    assert store.get_personality(work.id, "terse").prompt == "work prompt"


def test_list_personalities(store, default_id):
    store.set_personality(default_id, "b", "B")
    store.set_personality(default_id, "a", "A")
    assert [p.name for p in store.list_personalities(default_id)] == ["a", "b"]
    assert store.list_personalities(store.create_profile("empty").id) == []


def test_delete_personality(store, default_id):
    store.set_personality(default_id, "terse", "Be brief.")
    store.delete_personality(default_id, "terse")
    assert store.get_personality(default_id, "terse") is None


def test_delete_missing_personality_is_not_found(store, default_id):
    with pytest.raises(
        NotFound, match=r"^personality 'terse' not found in profile 'default'$"
    ):
        store.delete_personality(default_id, "terse")


def test_personality_for_missing_profile_is_not_found(store):
    with pytest.raises(NotFound, match=r"^profile #999 not found$"):
        store.set_personality(999, "terse", "Be brief.")
