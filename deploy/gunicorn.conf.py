"""gunicorn settings for one mediaserver web process (eventlet worker; Socket.IO watch parties).

    .venv/bin/gunicorn -c deploy/gunicorn.conf.py --bind 127.0.0.1:8001

The app's configuration comes from the environment, as everywhere (deploy/mediaserver.env.example);
so do this file's MEDIASERVER_BIND (host:port, default 127.0.0.1:8001; the systemd unit passes
`--bind 127.0.0.1:<instance>` instead) and MEDIASERVER_ACCESS_LOG (`-` for an access log on stdout; none
by default). With MEDIASERVER_PROXY_FIX set (behind nginx) it refuses to start on any address but
loopback or a unix socket (`on_starting`): nginx must be the only way in, or a client could claim any
X-Forwarded-For and slip past the per-address login limit. Exactly
one worker: Socket.IO needs every request of a client on the process that holds its session, which
gunicorn cannot arrange between its workers; scale with more gunicorn processes on other ports
behind nginx's sticky (ip_hash) upstream instead (deploy/nginx/mediaserver.conf). gunicorn 25.x is
the last with the eventlet worker (requirements.txt pins it).
"""
import os
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The worker class warns that eventlet (and with it this worker) is deprecated: known, see above.
warnings.filterwarnings("ignore", message=r"(?s).*(eventlet worker|Eventlet) is deprecated")

wsgi_app = "wsgi:app"
pythonpath = f"{ROOT},{ROOT / 'deploy'}"
chdir = str(ROOT)
bind = [os.environ.get("MEDIASERVER_BIND", "127.0.0.1:8001")]
worker_class = "eventlet"
workers = 1
worker_connections = 1000  # open WebSockets and long-polls count here
# nginx keeps upstream connections open (`keepalive` in its upstream) and drops an idle one after 60 s
# (keepalive_timeout): staying open longer than nginx means gunicorn never closes one nginx is reusing
keepalive = 75
timeout = 30  # the worker's heartbeat to the arbiter (the eventlet worker beats every second)
graceful_timeout = 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("MEDIASERVER_ACCESS_LOG") or None  # "-": stdout (the journal under systemd)
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
proc_name = "mediaserver-web"
# gunicorn 25's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which several
# web processes would fight over; systemd's signals (reload: HUP, stop: TERM) do its job here.
control_socket_disable = True


def on_starting(server) -> None:
    """gunicorn's hook before it listens: exit with a sentence when MEDIASERVER_PROXY_FIX is set and
    an address it would listen on (the final one: `--bind`, MEDIASERVER_BIND or the default) is not
    loopback or a unix socket (`mediaserver.config.check_proxied_bind`)."""
    from mediaserver.config import check_proxied_bind, proxy_fix_hops  # `pythonpath` above is applied by now
    from mediaserver.exceptions import ConfigError

    try:
        check_proxied_bind(list(server.cfg.bind), proxy_fix_hops())
    except ConfigError as exc:
        raise SystemExit(f"deploy/gunicorn.conf.py: {exc}") from None
