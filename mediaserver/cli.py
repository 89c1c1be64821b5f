"""The command line: `flask --app mediaserver scan`, `... transcode` and `... users create|set`, thin
wrappers around the library scan (`library/scan.py`), the transcode queue (`transcode/jobs.py`) and
the accounts (`accounts.py`). Each command imports its use case when it runs, so that `flask --help`
and every other command start without loading guessit, RQ or the catalog."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .accounts import PASSWORD_MIN


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path())
@with_appcontext
def scan_command(paths: tuple[str, ...]) -> None:
    """Catalog the library (MEDIASERVER_LIBRARY or Settings), or only PATHS.

    Probes new and changed files once each, follows moved files, removes vanished ones, names and
    matches new files, and prints `added N, updated N, unchanged N, removed N, failed N`.
    Exit status 1, with a sentence, when a folder does not exist, when a path is relative, leads out
    of its library folder or names a folder that cannot be a library folder (`/`, `/etc`...: see
    `paths.check_library_root`), or when the scan stopped short (a probe process died).
    """
    from .db import get_db
    from .exceptions import ScanAborted
    from .library.scan import run_library_scan

    bar = None

    def progress(_path: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Scanning", file=sys.stderr, show_pos=True)
        bar.update(1)

    def say(line: str) -> None:
        if bar is not None and not bar.finished:
            bar.render_finish()
        click.echo(line, err=True)

    try:
        result = run_library_scan(get_db(), list(paths), progress=progress, say=say)
    except (FileNotFoundError, ValueError, ScanAborted) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary.line())


@click.command("transcode")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_files", is_flag=True, help="Every readable file that has no HLS ladder yet.")
@with_appcontext
def transcode_command(ids: tuple[int, ...], all_files: bool) -> None:
    """Queue HLS ladder jobs for IDS or --all.

    A worker (`python worker.py`) runs them.
    """
    from sqlalchemy import select

    from .db import get_db
    from .models import MediaFile

    if not ids and not all_files:
        raise click.UsageError("give media file ids or --all")
    if all_files:
        db = get_db()
        ids = tuple(m.id for m in db.scalars(select(MediaFile).where(MediaFile.status == "ok").order_by(MediaFile.id))
                    if m.ready_job is None)
    queued = _enqueue_ids(list(ids))
    click.echo(f"queued {queued} transcode job(s)")
    if queued < len(ids):
        raise click.exceptions.Exit(1)


def _enqueue_ids(ids: list[int]) -> int:
    from redis.exceptions import RedisError

    from .db import get_db
    from .models import MediaFile
    from .transcode import jobs

    db = get_db()
    queued = 0
    for media_id in ids:
        media = db.get(MediaFile, media_id)
        if media is None:
            click.echo(f"media file {media_id} doesn't exist", err=True)
            continue
        try:
            jobs.enqueue(db, media)
        except ValueError as exc:
            click.echo(f"skipped: {exc}", err=True)
            continue
        except RedisError as exc:
            raise click.ClickException(f"cannot reach Redis at {current_app.config['REDIS_URL']}: {exc}") from None
        queued += 1
    return queued


users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help=f"At least {PASSWORD_MIN} characters; prompted for when left out.")
@click.option("--admin", is_flag=True, help="May change settings and start scans.")
def create_user_command(name: str, password: str, admin: bool) -> None:
    """Create the account NAME."""
    from .accounts import create_user

    try:
        user = create_user(name, password, admin)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {'admin ' if user.is_admin else ''}user {user.username!r} (id {user.id})")


@users_cli.command("set")
@click.argument("name")
@click.option("--admin/--no-admin", default=None, help="Make NAME an admin, or no longer one.")
@click.option("--transcode/--no-transcode", default=None,
              help="Let NAME queue transcodes without being an admin, or no longer.")
def set_user_command(name: str, admin: bool | None, transcode: bool | None) -> None:
    """Change the account NAME's flags (those given; the others stay), then print them all."""
    from .accounts import find_user, set_flags

    user = find_user(name)
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    role_changed = set_flags(user, is_admin=admin, may_transcode=transcode)
    flags = f"admin {'yes' if user.is_admin else 'no'}, transcode grant {'yes' if user.may_transcode else 'no'}"
    may = "may queue transcodes" if user.can_transcode else "may not queue transcodes"
    click.echo(f"user {user.username!r} (id {user.id}): {flags}: {may}"
               + ("; role changed: every session of the user was logged out" if role_changed else ""))


@users_cli.command("password")
@click.argument("name")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help=f"At least {PASSWORD_MIN} characters; prompted for when left out.")
def password_command(name: str, password: str) -> None:
    """Give the account NAME a new password (a forgotten one): every session of NAME is logged out and
    its players' stream tokens stop."""
    from .accounts import find_user, set_password

    user = find_user(name)
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    try:
        set_password(user, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"new password for {user.username!r}; every session of the user was logged out")


def init_app(app: Flask) -> None:
    """Register `flask scan`, `flask transcode` and `flask users`."""
    app.cli.add_command(scan_command)
    app.cli.add_command(transcode_command)
    app.cli.add_command(users_cli)
