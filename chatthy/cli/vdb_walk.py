"""Which files ``chatthy vdb ingest DIR`` sends: a walk with ignore rules.

Client side, standard library only. In a directory given on the command line:

- hidden files and directories (a name starting with ".") are skipped, unless
  ``--hidden``; so are symlinked directories (no loops);
- ``.gitignore``, ``.ignore`` and ``.chatthyignore`` files are honoured in the
  directory they sit in and below, with git's pattern rules: ``#`` comments,
  ``!`` to re-include, a trailing ``/`` for directories only, a ``/`` inside a
  pattern anchoring it to that directory, ``*``, ``?``, ``[…]`` and ``**``;
- ``--glob PATTERN`` keeps only matching files, ``--exclude PATTERN`` drops
  files and directories (same syntax, relative to the directory given);
- binary files are skipped (PDFs are not binary here: the daemon reads them),
  as are files larger than the limit.

A file named on the command line is always taken (the ignore rules are for
what a walk finds), and is refused only if it is binary or too large.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

IGNORE_FILES = (".gitignore", ".ignore", ".chatthyignore")


def _translate(pattern: str) -> str:
    """A gitignore glob as a regular expression over ``/``-separated paths."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern
    negate: bool
    dir_only: bool
    anchored: bool  # matched against the path relative to the rule's base, not the name

    @classmethod
    def parse(cls, line: str) -> Rule | None:
        line = line.rstrip("\n").rstrip("\r")
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            return None
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        elif line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            return None
        anchored = "/" in line
        line = line.lstrip("/")
        return cls(re.compile(_translate(line) + r"\Z", re.DOTALL), negate, dir_only, anchored)

    def matches(self, relative: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        target = relative if self.anchored else relative.rsplit("/", 1)[-1]
        return self.regex.match(target) is not None


@dataclass
class RuleSet:
    base: Path
    rules: list[Rule]

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True ignored, False re-included, None: no rule here speaks of it."""
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return None
        result = None
        for rule in self.rules:
            if rule.matches(relative, is_dir):
                result = not rule.negate
        return result


def parse_rules(base: Path, lines) -> RuleSet:
    return RuleSet(base, [r for r in (Rule.parse(line) for line in lines) if r is not None])


def _load_rules(directory: Path) -> RuleSet | None:
    lines: list[str] = []
    for name in IGNORE_FILES:
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    return parse_rules(directory, lines) if lines else None


def ignored(rulesets: list[RuleSet], path: Path, is_dir: bool) -> bool:
    result = False
    for ruleset in rulesets:  # outermost first: a deeper file overrides
        verdict = ruleset.verdict(path, is_dir)
        if verdict is not None:
            result = verdict
    return result


@dataclass
class Walk:
    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def walk(roots: list[Path], *, include: tuple[str, ...] = (), exclude: tuple[str, ...] = (),
         hidden: bool = False) -> Walk:
    """The files to ingest under ``roots`` (files or directories), in a stable order."""
    found = Walk()
    seen: set[Path] = set()

    def take(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            found.files.append(path)

    for root in roots:
        if root.is_dir():
            include_rules = [r for r in (Rule.parse(p) for p in include) if r is not None]
            exclude_rules = parse_rules(root, exclude)
            _walk_dir(root, root, [], include_rules, exclude_rules, hidden, take, found)
        elif root.exists():
            take(root)
        else:
            found.skipped.append((root, "no such file or directory"))
    return found


def _walk_dir(root: Path, directory: Path, rulesets: list[RuleSet], include: list[Rule],
              exclude: RuleSet, hidden: bool, take, found: Walk) -> None:
    local = _load_rules(directory)
    if local is not None:
        rulesets = [*rulesets, local]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append((directory, exc.strerror or str(exc)))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_link_dir = entry.is_symlink() and entry.is_dir()
        except OSError:
            continue
        if entry.name.startswith(".") and not hidden:
            continue
        if is_link_dir or ignored(rulesets, path, is_dir) or exclude.verdict(path, is_dir):
            continue
        if is_dir:
            _walk_dir(root, path, rulesets, include, exclude, hidden, take, found)
            continue
        try:
            if not entry.is_file():
                continue  # sockets, fifos, devices
        except OSError:
            continue
        if include:
            relative = path.relative_to(root).as_posix()
            if not any(rule.matches(relative, False) for rule in include):
                continue
        take(path)
