"""Serve the web app and its Socket.IO parties with eventlet, in one process (`make run`).

    python serve.py [--host 127.0.0.1] [--port 5000]

This is the one module that imports eventlet (barely maintained upstream; kept behind this file):
it monkey-patches the standard library before anything else is imported, as eventlet requires.
The app itself is async-mode agnostic; tests run it in threading mode under werkzeug. An installation
runs it under gunicorn's eventlet worker instead, several processes behind nginx (deploy/README.md):
gunicorn's worker does the monkey-patching there, and deploy/wsgi.py only builds the app.
"""
import warnings

# eventlet 0.40+ warns on import that it is deprecated (we know: that is why it stays in this file)
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
import eventlet  # noqa: E402
import eventlet.wsgi  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run until stopped; exit status 2 on a configuration error, such as a --host other than loopback
    while MEDIASERVER_PROXY_FIX is set (`config.check_proxied_bind`: behind a proxy, the proxy must be
    the only way in)."""
    from mediaserver import create_app
    from mediaserver.config import check_proxied_bind, proxy_fix_hops
    from mediaserver.exceptions import ConfigError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    try:
        check_proxied_bind([args.host], proxy_fix_hops())  # before the app: nothing opened for a refusal
        app = create_app({"SOCKETIO_ASYNC_MODE": "eventlet"})
    except ConfigError as exc:
        print(f"serve.py: configuration: {exc}", file=sys.stderr)
        return 2
    # eventlet.listen's default SO_REUSEPORT would let a second server share the port unnoticed
    # (the kernel then splits connections between an old and a new process): refuse it instead.
    try:
        listener = eventlet.listen((args.host, args.port), reuse_port=False)
    except OSError as exc:
        print(f"serve.py: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    # Accepted sockets inherit TCP_NODELAY (Linux), as gunicorn sets it: an ack written right after a
    # `state` would otherwise wait for the client's delayed ACK (40 ms) under Nagle's algorithm.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    from mediaserver import gc_tuning

    gc_tuning.tune()
    # socket_timeout (s): a connection silent that long is closed, a request sent half-way included
    # (eventlet's default is none: 300 half-sent requests stayed open for good, issue 13)
    eventlet.wsgi.server(listener, app, log_output=False,  # app.wsgi_app is Flask-SocketIO's middleware
                         socket_timeout=app.config["SOCKET_TIMEOUT_S"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
