"""`tracelight serve`, `tracelight user ...`, `tracelight token create|list|revoke`,
`tracelight audit [verify|protect]`."""

from __future__ import annotations

import getpass
import ipaddress
import os
import sys
from typing import Any

import click

from tracelight import settings
from tracelight.cli.app import cli, db_option, format_option
from tracelight.cli.output import emit, stderr
from tracelight.errors import TamperError, UsageError
from tracelight.store.accounts import ROLES, TOKEN_SCOPES, Accounts


def _open(db_url: str, *, create: bool = False) -> Any:
    """The store; a missing SQLite file is an error unless the command may create it."""
    from tracelight.store import open_store
    return open_store(db_url, must_exist=not create)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.option("--host", default=lambda: settings.get("host"), show_default="127.0.0.1",
              help=settings.SETTINGS["host"].help)
@click.option("--port", type=click.IntRange(1, 65535), default=lambda: settings.get_int("port"),
              show_default="8000", help=settings.SETTINGS["port"].help)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes. More use more cores; login rate limits then count per "
                   "process.")
@click.option("--api-only", is_flag=True,
              help="Serve only the platform API (/api/v1/*) and /healthz, for a platform's "
                   "internal network; every call still needs a token (docs/platform.md).")
@db_option
def serve(host: str, port: int, workers: int, api_only: bool, db_url: str) -> None:
    """Serve the investigator workspace (queue, search, ads, networks, cases) in a browser.

    Needs at least one admin: `tracelight user add NAME --role admin`.
    """
    store = _open(db_url)
    if not api_only and Accounts(store).count_admins() == 0:
        raise UsageError("no admin user yet, so nobody could log in",
                         hint="create one first: tracelight user add NAME --role admin "
                              f"--db {store.safe_url}")
    serve_store(store, host, port, workers=workers, api_only=api_only)


def ensure_port_free(host: str, port: int) -> None:
    """Raise a one-line UsageError unless `host:port` can be listened on now, so a busy port
    is said before any URL is announced."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # the family uvicorn binds
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot serve on host {host!r}: {getattr(exc, 'strerror', exc)}",
                         hint="use an address of this machine, e.g. --host 127.0.0.1") from None
    _family, socktype, proto, _name, addr = infos[0]
    with socket.socket(family, socktype, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} on {host} is already in use",
                                 hint="stop the program using it, or choose another port: "
                                      f"--port {port + 1 if port < 65535 else 8000}") from None
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve_store(store: Any, host: str, port: int, *, workers: int = 1,
                api_only: bool = False) -> None:
    """Run the workspace over an open store (also used by `tracelight demo`)."""
    import uvicorn

    from tracelight.web.app import create_app, require_audit_protection
    require_audit_protection(Accounts(store))  # fail closed before binding any port
    ensure_port_free(host, port)
    if not _is_loopback(host):
        stderr.print(f"[bold red]WARNING: serving on {host}, reachable from other machines.[/] "
                     "This workspace holds possible victims' details: put it behind HTTPS "
                     "and a firewall.", highlight=False, soft_wrap=True)
    shown = f"[{host}]" if ":" in host else host
    what = "platform API" if api_only else "workspace"
    stderr.print(f"tracelight {what} on http://{shown}:{port}/ (database "
                 f"{store.safe_url}); Ctrl+C stops it", highlight=False, soft_wrap=True)
    common: dict[str, Any] = {"host": host, "port": port, "log_level": "warning",
              "access_log": False,  # never shown at warning level: not even formatted
              "server_header": False,
              "proxy_headers": False}
    if workers > 1:
        # each worker process opens the database itself (see web.app.app_from_env)
        os.environ["TRACELIGHT_DB"] = store.url
        os.environ["TRACELIGHT_API_ONLY"] = "1" if api_only else "0"
        if not _is_loopback(host):
            os.environ["TRACELIGHT_SECURE_COOKIES"] = "1"
        from tracelight.web import workers as supervisor
        if supervisor.reuse_port_supported():
            # a listening socket per worker: the kernel spreads connections (web/workers.py)
            options = {k: v for k, v in common.items() if k not in ("host", "port")}
            code = supervisor.run(host, port, workers, options)
            if code:
                raise SystemExit(code)
            return
        uvicorn.run("tracelight.web.app:app_from_env", factory=True, workers=workers, **common)
        return
    app = create_app(store, secure_cookies=None if _is_loopback(host) else True,
                     api_only=api_only, warm=True)
    uvicorn.run(app, **common)


@cli.group()
def user() -> None:
    """Manage workspace users (roles: admin, analyst, viewer, advocate)."""


def _read_password(from_stdin: bool) -> str:
    from tracelight.web.auth import check_password_strength
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UsageError("no terminal to ask for a password", hint="use --password-stdin")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the passwords differ")
    problem = check_password_strength(password)
    if problem:
        raise UsageError(problem)
    return password


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (for scripts).")
@db_option
def user_add(name: str, role: str, password_stdin: bool, db_url: str) -> None:
    """Add a user NAME with a password (asked for, or read with --password-stdin)."""
    from tracelight.web.auth import hash_password
    password = _read_password(password_stdin)
    accounts = Accounts(_open(db_url, create=True))
    made = accounts.add_user(name, hash_password(password), role)
    accounts.audit("cli", "user.add", made.username, detail={"role": role})
    click.echo(f"added {made.username} ({role})", err=True)


@user.command("list")
@format_option("table", "jsonl", "csv")
@db_option
def user_list(fmt: str, db_url: str) -> None:
    """List users, their roles and whether they are disabled."""
    rows = [u.to_dict() for u in Accounts(_open(db_url)).list_users()]
    emit(rows, fmt, ["username", "role", "disabled", "created_at", "last_login"])


@user.command("disable")
@click.argument("name")
@db_option
def user_disable(name: str, db_url: str) -> None:
    """Disable NAME: logs them out everywhere and revokes their API tokens."""
    accounts = Accounts(_open(db_url))
    accounts.set_disabled(name, True)
    accounts.audit("cli", "user.disable", name)
    click.echo(f"disabled {name}", err=True)


@user.command("enable")
@click.argument("name")
@db_option
def user_enable(name: str, db_url: str) -> None:
    """Enable NAME again (their old API tokens stay revoked)."""
    accounts = Accounts(_open(db_url))
    accounts.set_disabled(name, False)
    accounts.audit("cli", "user.enable", name)
    click.echo(f"enabled {name}", err=True)


@cli.group()
def token() -> None:
    """API tokens for integrations (sent as `Authorization: Bearer TOKEN`)."""


@token.command("create")
@click.argument("username")
@click.option("--label", default="", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Days until it expires. [default: TRACELIGHT_TOKEN_DAYS or 90]")
@click.option("--scope", type=click.Choice(TOKEN_SCOPES), default=None,
              help="A service-account token limited to the platform API's check, ingest or "
                   "read calls. [default: the user's full role]")
@db_option
def token_create(username: str, label: str, days: int | None, scope: str | None,
                 db_url: str) -> None:
    """Create an API token for USERNAME and print it once (only its hash is kept)."""
    accounts = Accounts(_open(db_url))
    value = accounts.create_token(username, label, days=days, scope=scope)
    accounts.audit("cli", "token.create", username, detail={"label": label, "days": days,
                                                            "scope": scope,
                                                            "os_user": _os_user()})
    click.echo(value)


@token.command("list")
@click.argument("username", required=False)
@format_option("table", "jsonl", "csv")
@db_option
def token_list(username: str | None, fmt: str, db_url: str) -> None:
    """List API tokens (all, or USERNAME's): id, label, dates and status. Never the tokens."""
    accounts = Accounts(_open(db_url))
    if username is not None:
        accounts.get_user(username)  # an unknown name is an error, not an empty list
    emit([t.to_dict() for t in accounts.list_tokens(username)], fmt,
         ["id", "username", "label", "created_at", "expires_at", "last_used", "status"])


@token.command("revoke")
@click.argument("token_id", type=int)
@db_option
def token_revoke(token_id: int, db_url: str) -> None:
    """Revoke the API token with id TOKEN_ID (see `tracelight token list`) at once."""
    accounts = Accounts(_open(db_url))
    info = accounts.revoke_token(token_id)
    accounts.audit("cli", "token.revoke", info.username, detail={"token": info.id,
                                                                 "os_user": _os_user()})
    click.echo(f"revoked token {info.id} of {info.username}", err=True)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers): still audit, without it
        return "?"


@cli.group("audit", invoke_without_command=True)
@click.option("--user", "username", default=None, help="Only this user's entries.")
@click.option("--action", default=None, help="Only actions starting with this, e.g. export.")
@click.option("--limit", type=int, default=100, show_default=True,
              help="Newest N entries for the table; jsonl/csv print every entry.")
@format_option("table", "jsonl", "csv")
@db_option
@click.pass_context
def audit_cmd(ctx: click.Context, username: str | None, action: str | None, limit: int,
              fmt: str, db_url: str) -> None:
    """Print the append-only, hash-chained audit log (who did what, when, and why).

    `tracelight audit verify` checks the chain; `tracelight audit protect` restores the
    database triggers that keep the log append-only.
    """
    if ctx.invoked_subcommand is not None:
        return
    accounts = Accounts(_open(db_url))
    columns = ["id", "at", "username", "action", "target", "reason", "ip", "detail"]
    if fmt == "table":
        _total, rows = accounts.audit_entries(limit=limit, username=username, action=action)
        emit(rows, fmt, columns)
    else:
        emit(accounts.iter_audit(username=username, action=action), fmt, columns)


@audit_cmd.command("verify")
@db_option
def audit_verify(db_url: str) -> None:
    """Check the audit log's hash chain and triggers; name the first broken link.

    Exits 0 and prints the head hash (record it elsewhere: it also reveals a log cut short
    later) when every entry links to the one before; exits 8 otherwise.
    """
    from tracelight.store.audit import AuditLog
    result = AuditLog(_open(db_url)).verify()
    for problem in result.problems:
        click.echo(f"not protected: {problem}", err=True)
    if result.broken is not None:
        raise TamperError(f"audit log broken at {result.broken}",
                          hint=f"{result.entries:,} entries checked")
    if result.problems:
        raise TamperError("the audit log's append-only triggers are missing",
                          hint="restore them with `tracelight audit protect`")
    click.echo(f"audit log intact: {result.entries:,} entries, head {result.head_seq} "
               f"{result.head_hash}")


@audit_cmd.command("protect")
@db_option
def audit_protect(db_url: str) -> None:
    """Restore missing append-only triggers on the audit log (then run `audit verify`)."""
    from tracelight.store.audit import AuditLog
    store = _open(db_url)
    made = AuditLog(store).install_protection()
    Accounts(store).audit("cli", "audit.protect", detail={"made": made, "os_user": _os_user()})
    click.echo("restored " + ", ".join(made) if made else "all triggers were in place",
               err=True)

