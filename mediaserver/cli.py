"""`flask --app mediaserver scan` and `... transcode`: thin wrappers around the scanner and the job queue."""
from __future__ import annotations

import os
import shutil
import sys
from functools import partial

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from sqlalchemy import select

from . import catalog, settings
from .db import get_db
from .models import MediaFile
from .scanner.probe import probe
from .scanner.scan import resolve_targets, scan
from .transcode import jobs


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path())
@with_appcontext
def scan_command(paths: tuple[str, ...]) -> None:
    """Catalog the library (MEDIASERVER_LIBRARY), or only PATHS.

    Probes new and changed files once each, removes vanished ones, and prints
    `added N, updated N, unchanged N, removed N, failed N`. Exit status 1 when a folder does not exist.
    """
    db = get_db()
    roots = settings.library_roots(db)
    if not paths and not roots:
        raise click.ClickException("no library to scan: set MEDIASERVER_LIBRARY or give a PATH")
    try:
        targets = resolve_targets(list(paths), roots)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    probe_fn = partial(probe, ffprobe=current_app.config["FFPROBE"], timeout_s=current_app.config["PROBE_TIMEOUT_S"])
    bar = None

    def progress(_path: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="Scanning", file=sys.stderr, show_pos=True)
        bar.update(1)

    summary = scan(db, targets, probe_fn, progress=progress, workers=current_app.config["PROBE_WORKERS"])
    if bar is not None:
        bar.render_finish()
    if summary.moved:
        click.echo(f"moved or renamed: {summary.moved} (kept their ids, matches and ladders)", err=True)
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for path, reason in summary.failures:
        click.echo(f"failed: {path}: {reason}", err=True)
    for folder in summary.removed_output_dirs:
        shutil.rmtree(os.path.join(jobs.hls_root(), folder), ignore_errors=True)
    for media_id in summary.updated_ids:
        jobs.source_changed(db, db.get(MediaFile, media_id))
    _catalog(db, summary.added_ids)
    if summary.added_ids and settings.auto_transcode(db):
        try:
            queued = _enqueue_ids(summary.added_ids)
        except click.ClickException as exc:  # the scan itself ran: still exit 0
            click.echo(f"warning: nothing queued for transcoding: {exc.message}", err=True)
        else:
            click.echo(f"queued {queued} transcode job(s) for the worker (python worker.py)", err=True)
    click.echo(summary.line())


@click.command("transcode")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_files", is_flag=True, help="Every readable file that has no HLS ladder yet.")
@with_appcontext
def transcode_command(ids: tuple[int, ...], all_files: bool) -> None:
    """Queue HLS ladder jobs for IDS or --all.

    A worker (`python worker.py`) runs them.
    """
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


def _catalog(db, media_ids: list[int]) -> None:
    """Name and match the new files; TMDB enrichment only with a key."""
    client = settings.tmdb_client(db)
    if client is None:
        click.echo("catalog: no TMDB key (TMDB_API_KEY or Settings): titles come from file names only", err=True)
    try:
        result = catalog.catalog_files(db, media_ids, client)
    finally:
        if client is not None:
            client.close()
    for error in result.errors:
        click.echo(f"warning: {error}", err=True)
    click.echo(result.line(), err=True)


def _enqueue_ids(ids: list[int]) -> int:
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


def init_app(app: Flask) -> None:
    """Register `flask scan` and `flask transcode`."""
    app.cli.add_command(scan_command)
    app.cli.add_command(transcode_command)
