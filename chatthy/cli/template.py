"""``chatthy template list|show|edit|new|delete``: instruction templates.

Built-in templates ship in the package; the user's live in
``CONFIG_DIR/templates/NAME.md`` and override a built-in of the same name
(``template edit summary-bullets`` copies the built-in there first).
"""

from __future__ import annotations

import sys

import click

from chatthy.cli.output import error_line, is_tty, note, print_json, table, write_text


@click.group("template")
def template() -> None:
    """Instruction templates for `ask -t NAME`, `summarize` and the REPL's /t.

    \b
    chatthy template list
    chatthy ask -t translate -v language=German < notes.md
    chatthy template new standup --description "Daily stand-up notes" < body.md
    """


@template.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of templates.")
@click.pass_obj
def list_(app, as_json) -> None:
    """List the templates: built-in and yours."""
    from chatthy import templates

    found, problems = templates.list_all(app.paths.config_dir)
    for problem in problems:
        error_line(problem)
    if as_json:
        print_json([{k: v for k, v in t.to_dict().items() if k != "body"} for t in found])
        return
    rows = []
    for t in found:
        origin = "user (overrides built-in)" if t.overrides_builtin else ("user" if t.origin == "user" else "built-in")
        variables = ", ".join(f"{v}={_short(t.defaults[v])}" if v in t.defaults else v for v in t.variables)
        rows.append([t.name, origin, t.description, variables])
    table(["NAME", "ORIGIN", "DESCRIPTION", "VARIABLES"], rows)


def _short(value: str, width: int = 20) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


@template.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The parsed template as JSON.")
@click.pass_obj
def show(app, name, as_json) -> None:
    """Print a template's file."""
    from chatthy import templates

    t = templates.load(name, app.paths.config_dir)
    if as_json:
        print_json(t.to_dict())
        return
    if t.path:
        from pathlib import Path

        text = Path(t.path).read_text(encoding="utf-8")
        note(f"# {t.path}")
    else:
        text = templates.builtin_text(name) or ""
        note(f"# built-in; `chatthy template edit {name}` makes your own copy")
    write_text(text if text.endswith("\n") else text + "\n")


@template.command()
@click.argument("name")
@click.pass_obj
def edit(app, name) -> None:
    """Edit your template NAME in $VISUAL/$EDITOR (a built-in is copied first)."""
    from chatthy import templates

    path = templates.user_path(name, app.paths.config_dir)
    if not path.exists():
        text = templates.builtin_text(name)
        if text is None:
            from chatthy.errors import NotFound

            raise NotFound(f"no template named {name!r}: create it with `chatthy template new {name}`")
        templates.create(name, app.paths.config_dir, text)
        note(f"copied the built-in {name!r} to {path}")
    _edit_and_check(name, path)


@template.command()
@click.argument("name")
@click.option("-d", "--description", metavar="TEXT", help="One line saying what it does.")
@click.option("-s", "--system", metavar="TEXT", help="A system prompt for it.")
@click.option("--from", "from_", metavar="TEMPLATE", help="Start from a copy of another template.")
@click.option("--no-edit", is_flag=True, help="Do not open an editor.")
@click.pass_obj
def new(app, name, description, system, from_, no_edit) -> None:
    """Create template NAME; its body is stdin if piped, else a skeleton to edit.

    The body uses {{input}} for the input and {{name}} for variables.
    """
    from chatthy import templates

    templates.check_name(name)
    piped = not is_tty(sys.stdin)
    body = sys.stdin.read() if piped else None
    if from_:
        base = templates.load(from_, app.paths.config_dir)
        text = templates.skeleton(description or base.description, system or base.system,
                                  body if body and body.strip() else base.body)
    else:
        text = templates.skeleton(description or "", system, body if body and body.strip() else None)
    path = templates.create(name, app.paths.config_dir, text)
    note(f"created {path}")
    if not no_edit and not piped and is_tty():
        _edit_and_check(name, path)


@template.command()
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
def delete(app, names) -> None:
    """Delete your templates (a built-in of the same name comes back)."""
    from chatthy import templates
    from chatthy.errors import NotFound

    for name in names:
        path = templates.user_path(name, app.paths.config_dir)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFound(f"you have no template named {name!r} (built-ins cannot be deleted)") from None
        note(f"deleted {path}")


def _edit_and_check(name: str, path) -> None:
    from chatthy import templates

    click.edit(filename=str(path))
    templates.load(name, path.parent.parent)  # report a broken header now, not at the next use
