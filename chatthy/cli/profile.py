"""``chatthy profile list|show|create|use|delete``."""

from __future__ import annotations

import click

from chatthy.cli.output import is_tty, note, print_json, table


@click.group()
def profile() -> None:
    """Profiles: separate sets of chats, personalities and workspace.

    The current profile is remembered per machine (`profile use`);
    `chatthy --profile NAME …` picks another for one command.
    """


@profile.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def list_(app, as_json) -> None:
    """List profiles; the current one is marked *."""
    current = app.current_profile()
    profiles = app.client.call("profile.list", current=current)
    if as_json:
        print_json(profiles)
        return
    table(["NAME", "CHATS", "PERSONAS", "CURRENT"],
          [[p["name"], str(p["chats"]), str(p["personalities"]), "*" if p.get("current") else ""]
           for p in profiles])


@profile.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def show(app, name, as_json) -> None:
    """Show a profile (default: the current one)."""
    data = app.client.call("profile.show", name=name or app.current_profile())
    if as_json:
        print_json(data)
        return
    click.echo(f"{data['name']}: {data['chats']} chats, {data['personalities']} own personalities")


@profile.command()
@click.argument("name")
@click.option("--use", "use_it", is_flag=True, help="Also make it the current profile.")
@click.pass_obj
def create(app, name, use_it) -> None:
    """Create profile NAME."""
    app.client.call("profile.create", name=name)
    note(f"created profile {name!r}")
    if use_it:
        _set_current(app, name)


@profile.command()
@click.argument("name")
@click.pass_obj
def use(app, name) -> None:
    """Make NAME the current profile (on this machine)."""
    app.client.call("profile.show", name=name)  # it must exist
    _set_current(app, name)


def _set_current(app, name: str) -> None:
    from chatthy.cli.state import ClientState

    state = ClientState.load(app.paths)
    if state.profile != name:
        state.profile = name
        state.chat = None  # the current chat belongs to the profile left behind
        state.save(app.paths)
    note(f"current profile: {name}")


@profile.command()
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(app, name, yes) -> None:
    """Delete profile NAME with all its chats and personalities."""
    from chatthy.cli.state import ClientState

    if not yes:
        info = app.client.call("profile.show", name=name)
        if not is_tty(click.get_text_stream("stdin")):
            raise click.UsageError(f"deleting {name!r} deletes its {info['chats']} chats: confirm with --yes")
        click.confirm(f"Delete profile {name!r} with its {info['chats']} chats and "
                      f"{info['personalities']} personalities?", abort=True, err=True)
    info = app.client.call("profile.delete", name=name)
    state = ClientState.load(app.paths)
    if state.profile == name:
        state.profile, state.chat = "default", None
        state.save(app.paths)
        note("current profile: default")
    note(f"deleted profile {name!r} ({info['chats']} chats)")
