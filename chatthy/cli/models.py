"""``chatthy models``: what each provider offers."""

from __future__ import annotations

import click

from chatthy.cli.output import note, print_json, table


@click.command()
@click.option("-p", "--provider", metavar="NAME", help="Only this provider.")
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def models(app, provider, as_json) -> None:
    """List models: from each provider's API where it answers, else the configured one.

    The configured default of each provider is marked *.
    """
    rows = app.client.call("models.list", provider=provider)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        if row.get("error"):
            note(f"{row['provider']}: no model list ({row['error']}); showing the configured model")
    table(["PROVIDER", "MODEL", "SOURCE", "DEFAULT"],
          [[r["provider"], r["model"], r["source"], "*" if r["default"] else ""] for r in rows])
