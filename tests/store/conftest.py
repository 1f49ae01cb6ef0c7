from __future__ import annotations

import pytest

from chatthy.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "data" / "chatthy.db") as opened:
        yield opened


@pytest.fixture
def default_id(store) -> int:
    return store.profile("default").id
