"""Names are data: whatever the user types is stored and read back verbatim."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatthy.errors import NotFound
from chatthy.store import Store

TRICKY = [
    "'; DROP TABLE chats; --",
    'say "hi"',
    "it's",
    "%_*?[]",
    "名前 ✨ émoji 🧪",
    "tab\there\nnewline",
    "\x00nul\x01\x1f\x7f",
    "\u202eright-to-left",
    " leading and trailing ",
    "Notes",
    "notes",
]

# Any text at all (hypothesis leaves out lone surrogates, which are not valid
# UTF-8 and cannot reach us through the JSON wire anyway).
names = st.text(min_size=1, max_size=40)


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    with Store.open(tmp_path_factory.mktemp("names") / "chatthy.db") as opened:
        yield opened


def _round_trip(store: Store, name: str) -> None:
    default = store.profile("default")
    profile = store.create_profile(name) if name != "default" else default
    try:
        assert store.profile(name) == profile
        assert name in [p.name for p in store.list_profiles()]

        personality = store.set_personality(profile.id, name, name)
        assert (personality.name, personality.prompt) == (name, name)
        assert [p.name for p in store.list_personalities(profile.id)] == [name]

        chat = store.create_chat(profile.id, name, personality=name, provider=name, model=name)
        got = store.require_chat(profile.id, name)
        assert (got.name, got.personality, got.provider, got.model) == (name,) * 4
        store.add_message(chat.id, "user", name)
        assert store.messages(chat.id)[0].content == name
        [summary] = store.list_chats(profile.id, personality=name)
        assert summary.name == name

        renamed = store.rename_chat(profile.id, name, name + "·2")
        assert renamed.name == name + "·2"
        assert store.get_chat(profile.id, name) is None
        with pytest.raises(NotFound) as err:
            store.require_chat(profile.id, name)
        assert repr(name) in err.value.message

        store.delete_chat(profile.id, name + "·2")
        store.delete_personality(profile.id, name)
    finally:
        if profile is not default:
            store.delete_profile(name)
    assert store.integrity_check() == "ok"


@pytest.mark.parametrize("name", TRICKY)
def test_tricky_names_round_trip(shared_store, name):
    _round_trip(shared_store, name)
    # Nothing else was touched: the tables are all still there.
    assert {"profiles", "chats", "messages"} <= set(shared_store.db.table_names())


@settings(max_examples=75, deadline=None)
@given(name=names)
def test_any_name_round_trips(shared_store, name):
    _round_trip(shared_store, name)


def test_names_survive_reopening(tmp_path):
    path = tmp_path / "chatthy.db"
    with Store.open(path) as store:
        pid = store.profile("default").id
        for name in TRICKY:
            store.create_chat(pid, name)
    with Store.open(path) as store:
        pid = store.profile("default").id
        assert sorted(s.name for s in store.list_chats(pid)) == sorted(TRICKY)
