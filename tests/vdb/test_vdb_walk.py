"""The client's directory walk: hidden files, .gitignore rules, --glob, --exclude."""

from __future__ import annotations

from pathlib import Path

from chatthy.cli.vdb_walk import Rule, walk


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def names(root: Path, found) -> list[str]:
    return [p.relative_to(root).as_posix() for p in found.files]


def test_gitignore_rules_hidden_files_and_nested_ignore_files(tmp_path):
    tree(tmp_path, {
        ".gitignore": "# comment\n*.log\n!keep.log\nbuild/\n/top-only.txt\ndocs/**/secret*\n",
        "a.md": "a", "x.log": "x", "keep.log": "k", "build/out.txt": "o", "sub/build/out2.txt": "o",
        "top-only.txt": "t", "sub/top-only.txt": "t", "docs/deep/er/secret.md": "s", "docs/deep/ok.md": "ok",
        ".hidden/h.md": "h", ".env": "e", "sub/.gitignore": "*.tmp\n", "sub/x.tmp": "x", "x.tmp": "x",
        "build.md": "a file named like the ignored directory",
    })
    found = walk([tmp_path])
    assert names(tmp_path, found) == [
        "a.md", "build.md", "docs/deep/ok.md", "keep.log", "sub/top-only.txt", "x.tmp",
    ]


def test_hidden_is_walked_on_request_and_symlinked_directories_never(tmp_path):
    tree(tmp_path, {".hidden/h.md": "h", "real/r.md": "r"})
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    assert names(tmp_path, walk([tmp_path])) == ["real/r.md"]
    assert names(tmp_path, walk([tmp_path], hidden=True)) == [".hidden/h.md", "real/r.md"]


def test_glob_and_exclude(tmp_path):
    tree(tmp_path, {"a.md": "", "b.txt": "", "docs/c.md": "", "docs/d.rst": "", "notes/e.md": ""})
    assert names(tmp_path, walk([tmp_path], include=("*.md",))) == ["a.md", "docs/c.md", "notes/e.md"]
    assert names(tmp_path, walk([tmp_path], include=("docs/*",))) == ["docs/c.md", "docs/d.rst"]
    assert names(tmp_path, walk([tmp_path], include=("*.md",), exclude=("docs/",))) == ["a.md", "notes/e.md"]
    assert names(tmp_path, walk([tmp_path], exclude=("*.md", "*.rst"))) == ["b.txt"]


def test_named_files_are_always_taken_and_missing_ones_reported(tmp_path):
    tree(tmp_path, {".gitignore": "*.md\n", "x.md": "x", ".secret.md": "s"})
    found = walk([tmp_path / "x.md", tmp_path / ".secret.md", tmp_path / "gone.md", tmp_path / "x.md"])
    assert names(tmp_path, found) == ["x.md", ".secret.md"]  # once each, in the order given
    assert [(p.name, why) for p, why in found.skipped] == [("gone.md", "no such file or directory")]


def test_rule_syntax():
    assert Rule.parse("") is None and Rule.parse("# c") is None and Rule.parse("/") is None
    r = Rule.parse("a/**/b")
    assert r.matches("a/b", False) and r.matches("a/x/y/b", False) and not r.matches("x/a/b", False)
    assert Rule.parse("[!a]*.txt").matches("b.txt", False) and not Rule.parse("[!a]*.txt").matches("a.txt", False)
    assert Rule.parse("\\#literal").matches("#literal", False)
    assert Rule.parse("logs/").matches("logs", True) and not Rule.parse("logs/").matches("logs", False)
    assert Rule.parse("?.md").matches("a.md", False) and not Rule.parse("?.md").matches("ab.md", False)
