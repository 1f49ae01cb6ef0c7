"""The new commands stay light on the client side: nothing heavy, nothing of the daemon."""

from __future__ import annotations

from tests.test_client_imports import forbidden, loaded_modules
from tests.tools.png_maker import png


def test_tools_run_and_image_commands_import_nothing_heavy(thome, provider, tmp_path):
    image = tmp_path / "i.png"
    image.write_bytes(png(4, 4))
    for args in (["tools", "list"], ["run", "list"], ["run"], ["ask", "-c", "imports", "-a", str(image), "hi"],
                 ["tools", "calls", "imports"]):
        modules = loaded_modules(thome.env, *args)
        assert "chatthy.client" in modules, args
        assert forbidden(modules) == [], args
    assert "mcp" not in {m.split(".")[0] for m in modules}
