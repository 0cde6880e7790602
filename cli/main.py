"""The `cicie` command."""

from __future__ import annotations

import typer

from cli.admin_cmd import db_app, demo_app, user_app
from cli.mail_cmd import mail_app, outbox_app
from cli.requests_cmd import emb_app, request_app
from cli.results_cmd import results_app
from cli.serve_cmd import serve
from cli.worker_cmd import worker
from cli.workflows_cmd import workflows_app

app = typer.Typer(
    name="cicie",
    help="CICIE request lifecycle engine: workshops, internships, courses, seminars, missions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(emb_app, name="emb")
app.add_typer(request_app, name="request")
app.add_typer(workflows_app, name="workflows")
app.add_typer(user_app, name="user")
app.add_typer(demo_app, name="demo")
app.add_typer(outbox_app, name="outbox")
app.add_typer(mail_app, name="mail")
app.add_typer(results_app)
app.command("serve")(serve)
app.command("worker")(worker)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
