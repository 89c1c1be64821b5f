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
import socketio
from flask import Flask
from flask_socketio import SocketIO
from redis import Redis
from rq import Queue
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import logs
from .exceptions import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Every Redis client of the app (job queues, party state, the Socket.IO message queue) gives up on a
#: connect or on a reply after REDIS_TIMEOUT_S (s): with Redis down or unreachable, a request that needs
#: it answers 503 within about that long (web/errors.py) instead of hanging (redis-py 8's default is
#: 5 s, older ones wait for ever). No retries (redis-py's from_url default): a refused connection fails
#: at once, and a pooled connection Redis closed is replaced on its next use. The subscriber's blocking
#: read (the message queue's listener) is not bound by it; RQ's worker raises the read timeout of its
#: own connection above its BLPOP wait.
REDIS_TIMEOUT_S = 2
REDIS_OPTIONS = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}


def _message_queue(config: dict) -> dict:
    """SocketIO's message queue arguments. On Redis, python-socketio's RedisManager is built here with
    REDIS_OPTIONS (Flask-SocketIO's `message_queue=` passes no options to it). While Redis is down an
    emit still reaches this process's clients (the manager delivers locally, then publishes, and logs a
    failed publish); its listener thread reconnects by itself, after 1, 2, 4 ... at most 60 s."""
    url, channel = config["SOCKETIO_MESSAGE_QUEUE"], config["SOCKETIO_CHANNEL"]
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return {"client_manager": socketio.RedisManager(url, channel=channel, redis_options=dict(REDIS_OPTIONS))}
    return {"message_queue": url, "channel": channel} if url else {}


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
    # Flask's defaults hold the key (None), so setdefault would keep None: Lax unless `config` names one
    app.config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    logs.setup(app.config["LOG_FORMAT"])  # text, or JSON lines (MEDIASERVER_LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    app.redis = Redis.from_url(app.config["REDIS_URL"], **REDIS_OPTIONS)
    app.task_queue = Queue(app.config["RQ_QUEUE"], connection=app.redis)
    app.scan_queue = Queue(app.config["SCAN_QUEUE"], connection=app.redis)
    # One SocketIO per app (not a module global) so that tests can run several apps in one process;
    # its message queue on Redis lets several web processes share party rooms (Flask-SocketIO docs,
    # "Using Multiple Workers"). The async mode is explicit: serve.py asks for eventlet.
    app.socketio = SocketIO(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"],
                            **_message_queue(app.config))  # default CORS: same origin only
    if app.config.get("PROXY_FIX"):
        # Behind nginx (deploy/): the client's address, scheme and host come from X-Forwarded-*, for
        # url_for(_external=True) and for engine.io's same-origin check. Outermost, so Socket.IO sees it too.
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import cli, db
    from .web import admin, auth, errors, files, ops, parties, playback, security, titles, transcodes

    app.url_map.converters["int"] = security.Int64Converter  # before any route: ids past BIGINT are 404
    db.init_app(app)
    cli.init_app(app)
    # ops first: its request timer starts before any other before_request hook
    for module in (ops, errors, security, auth, files, titles, playback, admin, transcodes, parties):
        module.init_app(app)
    return app
