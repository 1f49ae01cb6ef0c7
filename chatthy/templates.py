"""Instruction templates: built-in files in the package, user files in the config dir.

A template is a text file ``NAME.md``: an optional TOML header between ``+++``
lines, then the body::

    +++
    description = "Translate into another language"
    system = "You are a professional translator."   # optional
    provider = "openai"                              # optional
    model = "gpt-4o"                                 # optional
    [vars]                                           # defaults of named variables
    language = "English"
    +++
    Translate the text below into {{language}}. Keep code as it is.

    {{input}}

``{{input}}`` is the input (stdin, ``--file``, the prompt words); ``{{name}}``
is a variable, given with ``-v name=value`` or defaulted under ``[vars]``.
Substitution is one pass over the body: a value is never scanned again, and
braces that are not ``{{identifier}}`` (code, JSON, Jinja with dots or
filters) are left alone. A missing or unknown variable is an error that lists
them all.

Templates are expanded on the client, where the files (``--file``, the user's
templates) are: the daemon receives finished text, so it needs no access to
the client's disk over TCP. Standard library only (the CLI and the REPL use it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from chatthy.errors import BadRequest, ConfigError, Conflict, NotFound

SUFFIX = ".md"
INPUT = "input"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_FIELDS = {"description": str, "system": str, "provider": str, "model": str, "vars": dict}


@dataclass(frozen=True)
class Template:
    name: str
    body: str
    description: str = ""
    system: str | None = None
    provider: str | None = None
    model: str | None = None
    defaults: dict[str, str] = field(default_factory=dict)
    origin: str = "builtin"  # "builtin" | "user"
    path: str | None = None
    overrides_builtin: bool = False

    @property
    def variables(self) -> list[str]:
        """Named variables the body uses (``input`` excluded), in order of first use."""
        return [v for v in placeholders(self.body) if v != INPUT]

    @property
    def takes_input(self) -> bool:
        return INPUT in placeholders(self.body)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "description": self.description, "system": self.system,
            "provider": self.provider, "model": self.model, "variables": self.variables,
            "defaults": dict(self.defaults), "takes_input": self.takes_input,
            "origin": self.origin, "path": self.path, "overrides_builtin": self.overrides_builtin,
            "body": self.body,
        }


def placeholders(body: str) -> list[str]:
    seen: list[str] = []
    for m in _PLACEHOLDER.finditer(body):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def check_name(name: str) -> str:
    """Template names are file names in a known directory: a strict pattern."""
    if not _NAME.match(name) or ".." in name:
        raise BadRequest(f"invalid template name {name!r}: use letters, digits, '-', '_' and '.' (at most 64)")
    return name


def parse(name: str, text: str, *, origin: str = "user", path: str | None = None) -> Template:
    """A template from its file text; ConfigError naming the file if the header is bad."""
    where = path or f"template {name!r}"
    header: dict = {}
    body = text
    lines = text.split("\n")
    if lines and lines[0].strip() == "+++":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
        except StopIteration:
            raise ConfigError(f"{where}: the header opened by '+++' on line 1 is never closed") from None
        import tomllib

        try:
            header = tomllib.loads("\n".join(lines[1:end]))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: invalid TOML in the header: {exc}") from None
        body = "\n".join(lines[end + 1:])
    for key, value in header.items():
        want = _HEADER_FIELDS.get(key)
        if want is None:
            raise ConfigError(f"{where}: unknown header field {key!r} (known: {', '.join(_HEADER_FIELDS)})")
        if not isinstance(value, want):
            raise ConfigError(f"{where}: {key} must be a {'table' if want is dict else 'string'}")
    defaults = header.get("vars", {})
    for key, value in defaults.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{where}: vars.{key} must be a string")
    if not body.strip():
        raise ConfigError(f"{where}: the template has no body")
    return Template(
        name=name, body=body.strip("\n") + "\n", description=header.get("description", "").strip(),
        system=header.get("system") or None, provider=header.get("provider") or None,
        model=header.get("model") or None, defaults={k: str(v) for k, v in defaults.items()},
        origin=origin, path=path,
    )


def render(template: Template, *, input: str | None = None, variables: dict[str, str] | None = None) -> str:
    """The body with ``{{input}}`` and every ``{{var}}`` filled in, in one pass."""
    variables = dict(variables or {})
    used = template.variables
    unknown = sorted(set(variables) - set(used))
    if unknown:
        known = ", ".join(used) if used else "none"
        raise BadRequest(f"template {template.name!r} has no variable{'s' * (len(unknown) > 1)} "
                         f"{', '.join(unknown)} (its variables: {known})")
    values = {**template.defaults, **variables}
    missing = [v for v in used if v not in values]
    if missing:
        flags = " ".join(f"-v {v}=…" for v in missing)
        raise BadRequest(f"template {template.name!r} needs {', '.join(missing)}: give {flags}")
    if template.takes_input:
        if input is None or not input.strip():
            raise BadRequest(f"template {template.name!r} needs input: pipe text on stdin, "
                             "give --file PATH|URL, or type it after the options")
        values[INPUT] = input
    elif input is not None and input.strip():
        raise BadRequest(f"template {template.name!r} takes no input (it has no {{{{input}}}}); "
                         "drop the text, or use a template that takes input")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template.body)


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``("lang=German", "n=5")`` → ``{"lang": "German", "n": "5"}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise BadRequest(f"invalid variable {pair!r}: use -v name=value")
        if key == INPUT:
            raise BadRequest("'input' is not a variable: it is stdin, --file, or the prompt words")
        out[key] = value
    return out


# -- where templates live ----------------------------------------------------

def user_dir(config_dir: Path) -> Path:
    return Path(config_dir) / "templates"


def _builtin_dir():
    return files("chatthy") / "data" / "templates"


def _builtin_names() -> dict[str, object]:
    out = {}
    for entry in _builtin_dir().iterdir():
        if entry.name.endswith(SUFFIX):
            out[entry.name[: -len(SUFFIX)]] = entry
    return out


def _user_names(config_dir: Path) -> dict[str, Path]:
    folder = user_dir(config_dir)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return {}
    out = {}
    for entry in entries:
        stem = entry.name[: -len(SUFFIX)]
        if entry.name.endswith(SUFFIX) and entry.is_file() and _NAME.match(stem):
            out[stem] = Path(entry.path)
    return out


def load(name: str, config_dir: Path) -> Template:
    """The user's template NAME if there is one, else the built-in one."""
    check_name(name)
    builtin = _builtin_names()
    user = _user_names(config_dir).get(name)
    if user is not None:
        t = parse(name, _read(user), origin="user", path=str(user))
        return _replace(t, overrides_builtin=name in builtin)
    entry = builtin.get(name)
    if entry is None:
        raise NotFound(f"no template named {name!r} (see `chatthy template list`)")
    return parse(name, entry.read_text(encoding="utf-8"), origin="builtin", path=None)


def builtin_text(name: str) -> str | None:
    entry = _builtin_names().get(name)
    return entry.read_text(encoding="utf-8") if entry is not None else None


def list_all(config_dir: Path) -> tuple[list[Template], list[str]]:
    """Every template (user ones override built-ins), and the problems of broken user files."""
    builtin = _builtin_names()
    user = _user_names(config_dir)
    out: list[Template] = []
    problems: list[str] = []
    for name in sorted(set(builtin) | set(user)):
        try:
            out.append(load(name, config_dir))
        except (ConfigError, BadRequest) as exc:
            problems.append(exc.message)
    return out, problems


def create(name: str, config_dir: Path, text: str) -> Path:
    """Write a new user template; Conflict if the user already has one by that name."""
    check_name(name)
    parse(name, text)  # refuse to write a file that would not load
    folder = user_dir(config_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{name}{SUFFIX}"
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise Conflict(f"template {name!r} already exists at {path} (edit it: `chatthy template edit {name}`)") from None
    return path


def user_path(name: str, config_dir: Path) -> Path:
    return user_dir(config_dir) / f"{check_name(name)}{SUFFIX}"


def skeleton(description: str = "", system: str | None = None, body: str | None = None) -> str:
    head = ["+++", f"description = {_toml_string(description or 'What this template does')}"]
    if system:
        head.append(f"system = {_toml_string(system)}")
    head += ["# provider = \"openai\"", "# model = \"gpt-4o-mini\"", "# [vars]", "# language = \"English\"", "+++"]
    return "\n".join(head) + "\n" + (body if body is not None else "Do this with the text below.\n\n{{input}}\n")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _replace(t: Template, **changes) -> Template:
    import dataclasses

    return dataclasses.replace(t, **changes)
