"""Without sqlite-vec (a database made with it, opened without): exact numpy search and a warning.

Rebuilding the index once sqlite-vec is back is tested in test_vdb_store.py.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import make_home, running_daemon


@pytest.fixture
def fhome(provider, tmp_path):
    home = make_home(provider)
    # A real import failure: a module named sqlite_vec earlier on the path that refuses to load.
    blocker = tmp_path / "no_sqlite_vec"
    blocker.mkdir()
    (blocker / "sqlite_vec.py").write_text("raise ImportError('sqlite-vec is not available on this machine')\n")
    home.without_vec = {**home.env, "PYTHONPATH": str(blocker)}
    try:
        yield home
    finally:
        shutil.rmtree(home.root, ignore_errors=True)


def search(home, *args):
    out = home.run("vdb", "search", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_numpy_fallback(fhome, docs):
    (docs / "owls.md").write_text("# Owls\n\nOwls hunt small animals at night.")
    with running_daemon(fhome):
        assert fhome.run("vdb", "ingest", str(docs / "owls.md")).returncode == 0

    with_vec = fhome.env
    fhome.env = fhome.without_vec
    try:
        with running_daemon(fhome):
            info = json.loads(fhome.run("vdb", "info", "--json", check=True).stdout)
            assert info["sqlite_vec"] is None and info["index"].startswith("numpy")
            found = search(fhome, "--mode", "vector", "-k", "1", "nocturnal birds of prey")
            assert found["results"][0]["source"] == str(docs / "owls.md")
            (docs / "tea.md").write_text("# Tea\n\nGreen tea wants water at eighty degrees.")
            assert fhome.run("vdb", "ingest", str(docs / "tea.md")).returncode == 0
            found = search(fhome, "--mode", "vector", "-k", "1", "how hot should the water be for green tea")
            assert found["results"][0]["source"] == str(docs / "tea.md")
        log = (fhome.state_dir / "daemon.log").read_text()
        assert "sqlite-vec could not be loaded" in log
    finally:
        fhome.env = with_vec
