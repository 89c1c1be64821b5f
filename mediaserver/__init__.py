"""mediaserver: catalog a media library, pre-transcode it to HLS, play it in the browser.

`create_app(config)` is the application factory (the Flask tutorial's pattern): configuration from the
environment (`mediaserver.config`), overridden by `config` when given (tests do this).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_socketio import SocketIO
from redis import Redis
from rq import Queue

from . import config as config_module
from .exceptions import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    `config` overrides settings read from the environment; an `INSTANCE_PATH` key moves the instance
    folder (secret key, default SQLite database and data dir). Raises `ConfigError` on bad settings.
    """
    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("MEDIASERVER_INSTANCE")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    try:
        app.config.update(config_module.from_environment(app.instance_path))
    except ConfigError as exc:
        if click.get_current_context(silent=True) is not None:  # under `flask ...`: "Error: <message>", exit 1
            raise click.ClickException(f"configuration: {exc}") from None
        raise
    app.config.update(config)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    app.redis = Redis.from_url(app.config["REDIS_URL"])
    app.task_queue = Queue(app.config["RQ_QUEUE"], connection=app.redis)
    app.scan_queue = Queue(app.config["SCAN_QUEUE"], connection=app.redis)
    # One SocketIO per app (not a module global) so that tests can run several apps in one process;
    # its message queue on Redis lets several web processes share party rooms (Flask-SocketIO docs,
    # "Using Multiple Workers"). The async mode is explicit: serve.py asks for eventlet.
    app.socketio = SocketIO(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                            message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
                            channel=app.config["SOCKETIO_CHANNEL"])  # default CORS: same origin only

    from . import cli, db
    from .web import admin, auth, catalog, errors, library, parties, playback, transcodes

    db.init_app(app)
    cli.init_app(app)
    for module in (errors, auth, library, catalog, playback, admin, transcodes, parties):
        module.init_app(app)
    return app
