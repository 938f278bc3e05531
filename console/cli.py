"""The ``kamidesk`` command: demo, import-orders, create-user, create-token, store-indexes,
serve."""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

DEMO_USERS = (("agent", "agent"), ("supervisor", "supervisor"), ("admin", "admin"))


def _app(**config):
    from console import create_app
    return create_app(config or None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kamidesk: a real-time support console for digital-goods shops."""


@main.command("import-orders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def import_orders(path: Path, quiet: bool) -> None:
    """Load orders from a JSONL file into the reference store (upsert by order_no).

    Every bad line is reported with its number and reason; good lines still load.
    Exits with status 1 when any line was bad.
    """
    from console.importing import import_file

    app = _app()
    with app.app_context():
        from console.store import get_store
        report = import_file(get_store(), path, progress=not quiet)
    for line_no, reason in report.errors:
        click.echo(f"{path}:{line_no}: {reason}", err=True)
    click.echo(f"loaded {report.loaded} orders, {len(report.errors)} bad lines")
    sys.exit(1 if report.errors else 0)


@main.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(name: str, role: str, password_stdin: bool) -> None:
    """Create an agent, supervisor or admin (or reset their password and role)."""
    from console.people import save_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = secrets.token_urlsafe(12)
        click.echo(f"generated password: {password}")
    if len(password) < 8:
        raise click.UsageError("the password must have at least 8 characters")
    app = _app()
    with app.app_context():
        user, created = save_user(name, role, password)
        click.echo(f"{'created' if created else 'updated'} {user.role} {user.name}")


@main.command("disable-user")
@click.argument("name")
def disable_user(name: str) -> None:
    """Disable user NAME: no more sign-ins; every session and open socket ends now."""
    _switch_user(name, "disable")


@main.command("enable-user")
@click.argument("name")
def enable_user(name: str) -> None:
    """Let user NAME sign in again (with their password)."""
    _switch_user(name, "enable")


def _switch_user(name: str, change: str) -> None:
    from console import people

    app = _app()
    with app.app_context():
        if getattr(people, f"{change}_user")(name) is None:
            raise click.ClickException(f"no user {name!r}")
    click.echo(f"{change}d {name}")


@main.command("create-token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
def create_token(name: str, label: str) -> None:
    """Print a new bearer token for user NAME, alone on the last line.

    NAME must be an existing user (made with create-user); the token acts as that user,
    with that user's role."""
    from console.people import issue_token, user_names

    app = _app()
    with app.app_context():
        token = issue_token(name, label)
        known = user_names()
    if token is None:
        raise click.ClickException(
            f"no user named {name!r}: NAME must be an existing user, and the token acts as "
            f"that user. Existing users: {', '.join(known) or 'none'}. Create one first: "
            f"kamidesk create-user {name} --role agent")
    click.echo(f"token for {name} (shown once; store it safely):")
    click.echo(token)


@main.command("list-tokens")
@click.argument("name")
def list_tokens(name: str) -> None:
    """List NAME's API tokens (id, label, last characters, state); secrets are never shown."""
    from console.people import tokens_of

    app = _app()
    with app.app_context():
        rows = tokens_of(name)
        if rows is None:
            raise click.ClickException(f"no user named {name!r}")
        if not rows:
            click.echo(f"{name} has no tokens")
        for token in rows:
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            click.echo(f"{token.id:>5}  …{token.hint}  {state:<18} last used {used}  {token.label}")


@main.command("revoke-token")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke the API token with this id (see list-tokens); it stops working at once."""
    from console.people import revoke_token as revoke

    app = _app()
    with app.app_context():
        if not revoke(token_id):
            raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"revoked token {token_id}")


@main.command("store-indexes")
@click.option("--store", "kind", default=None,
              help="Store kind (default: KAMIDESK_STORE, else the configured one).")
def store_indexes(kind: str | None) -> None:
    """Print the DDL the operator should run on the order store for Kamidesk's lookups.

    For dujiaoka: indexes on trade_no, buy_ip, updated_at and a FULLTEXT index on info,
    plus the adapter's kamidesk_actions table.  Nothing is executed: read it, then run it.
    """
    from console.config import instance_path, load_settings
    from console.store import operator_ddl

    kind = kind or str(load_settings(instance_path())["STORE"])
    try:
        click.echo(operator_ddl(kind))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.option("--older-than", "period", default=None,
              help="Period such as 2y, 18m, 6w or 90d (default: KAMIDESK_RETENTION, 2y).")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; change nothing.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def retention(period: str | None, dry_run: bool, quiet: bool) -> None:
    """Remove or anonymise chats and console records older than the retention period.

    Prints the rows per table; audit records are kept (append-only) and only counted.
    """
    from datetime import datetime, timezone

    from tqdm import tqdm

    from console import audit
    from console import retention as policy
    from console.extensions import db

    app = _app()
    with app.app_context():
        chosen = period or app.config["RETENTION"]
        try:
            cutoff = policy.cutoff_for(chosen, datetime.now(timezone.utc))
        except policy.BadPeriod as exc:
            raise click.BadParameter(str(exc), param_hint="--older-than") from None
        planned = policy.plan(db.session, cutoff)
        click.echo(f"{'would remove' if dry_run else 'removing'} data older than {chosen} "
                   f"(before {cutoff:%Y-%m-%d %H:%M} UTC)")
        if dry_run:
            report = planned
        else:
            with tqdm(total=policy.pending_total(planned), unit="row", disable=quiet,
                      desc="retention") as bar:
                report = policy.run(db.session, cutoff, app.instance_path, bar.update)
        for line in report.lines():
            click.echo(line)
        audit.record("retention", actor_name="cli", period=chosen, cutoff=cutoff.isoformat(),
                     dry_run=dry_run, counts=report.counts)
        db.session.commit()


@main.command("audit-grants")
@click.argument("role")
def audit_grants(role: str) -> None:
    """Print the SQL that lets PostgreSQL role ROLE use the console but only read and append
    to the audit trail (run it as the owner of the console database)."""
    from console.schema import audit_grants_sql

    click.echo(audit_grants_sql(role), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the console in one process with the configured settings."""
    app = _app()
    if str(app.config.get("WATCH_IN_PROCESS") or "").lower() in ("1", "true", "yes", "on"):
        from console.watching.watcher import start_in_process
        start_in_process(app)
    _serve(app, host, port)


@main.command()
@click.option("--orders", "count", default=20000, show_default=True, type=int)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo, then exit.")
def demo(count: int, seed: int, host: str, port: int, no_serve: bool) -> None:
    """Make a demo instance (console DB, reference store, users), then serve it."""
    from console.demo import prepare_demo

    app = _app(**_plain_http_cookies())
    with app.app_context():
        from console.store import get_store
        made = prepare_demo(get_store(), count=count, seed=seed, users=DEMO_USERS)
    click.echo(f"store: {made.orders:,} orders ({made.generated:,} generated now)")
    click.echo("demo logins (user / password):")
    for name, password in DEMO_USERS:
        click.echo(f"  {name:<11} {name if name == password else password}")
    if not no_serve:
        click.echo(f"serving on http://{host}:{port}")
        from console.watching.watcher import start_in_process
        start_in_process(app)  # the demo watches its own orders; production: kamidesk watch
        _serve(app, host, port)


def _plain_http_cookies() -> dict:
    """The demo serves plain http://127.0.0.1:5000, where a browser drops Secure cookies;
    ``KAMIDESK_SECURE_COOKIES`` (or the instance file) still decides when set."""
    import os

    from console.config import instance_path
    cfg = instance_path() / "kamidesk.cfg"
    configured = bool(os.environ.get("KAMIDESK_SECURE_COOKIES")) or (
        cfg.exists() and "SECURE_COOKIES" in cfg.read_text(encoding="utf-8"))
    return {} if configured else {"SECURE_COOKIES": False}


@main.command()
@click.option("--interval", default=2.0, show_default=True, type=float,
              help="Seconds between passes.")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def watch(interval: float, once: bool) -> None:
    """Watch the order store in the foreground: stuck orders, supplier outages (production).

    Emits to agents through a write-only Redis manager when KAMIDESK_MESSAGE_QUEUE is Redis.
    """
    from console.config import instance_path, load_settings
    from console.watching.runner import watch_foreground

    queue = load_settings(instance_path()).get("MESSAGE_QUEUE")
    app = _app(MESSAGE_QUEUE=None)  # this process serves no sockets: it only publishes
    watch_foreground(app, queue, interval, once, click.echo)


def _serve(app, host: str, port: int) -> None:
    from console.extensions import socketio
    from console.runtime import settle_for_serving
    settle_for_serving(app.config)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)


if __name__ == "__main__":
    main()
