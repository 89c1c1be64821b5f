"""Write the nginx site for this installation from deploy/nginx/mediaserver.conf.

    python deploy/nginx_site.py --server-name media.example.org --web 127.0.0.1:8001 --web 127.0.0.1:8002 \\
        [--data-dir DIR] [--library DIR ...] [--cert PEM --key PEM] > /etc/nginx/sites-available/mediaserver

The template's lines marked `@web`, `@server_name`, `@listen`, `@tls`, `@data` and the blocks between
`@begin <name>` and `@end <name>` are rewritten; every other line is kept as it is. --data-dir and
--library default to MEDIASERVER_DATA_DIR and MEDIASERVER_LIBRARY (`set -a; . mediaserver.env`
first); folders are resolved (the app names files by their real paths). --plain (no TLS, no
port-80 redirect) with --listen ADDR is for running the stack on loopback, as the deployment test
and bench/serve.py do; `standalone_conf` wraps a site into a whole nginx.conf for that.
Standard library only.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "mediaserver.conf"
#: The internal location the template uses; MEDIASERVER_X_ACCEL_PREFIX must be the same.
X_ACCEL_PREFIX = "/_protected"
_EXAMPLE_ROOT = "/srv/media/"


def _quote(value: str) -> str:
    """An nginx string token: bare when plain, else double-quoted."""
    if re.fullmatch(r"[\w./:@+=,-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folder(path: str) -> str:
    return os.path.realpath(path).rstrip("/") + "/"


def render(template: str, *, web: list[str], server_name: str = "_", data_dir: str, library: list[str],
           listen: list[str] | None = None, plain: bool = False, cert: str | None = None,
           key: str | None = None) -> str:
    """The site for these values (see the module's docstring)."""
    values = dict(web=web, server_name=server_name, data_dir=data_dir, listen=listen, plain=plain, cert=cert, key=key)
    out: list[str] = []
    block: list[str] = []
    done: set[str] = set()
    for line in template.splitlines():
        begin, end = re.search(r"# @begin (\w+)", line), re.search(r"# @end (\w+)", line)
        if begin or block:
            block.append(line)
            if end:
                out += _block(block, library, values, done)
                block = []
            continue
        out += _line(line, values, done)
    if block:
        raise ValueError(f"template: {block[0].strip()!r} has no '@end'")
    return "\n".join(out) + "\n"


def _line(line: str, values: dict, done: set[str]) -> list[str]:
    """A template line, rewritten when it carries a tag; the first line of a tag writes all of a list."""
    tag = re.search(r"# @(\w+)", line)
    if tag is None:
        return [line]
    name, first = tag.group(1), tag.group(1) not in done
    done.add(name)
    indent = line[: len(line) - len(line.lstrip())]
    if name == "web":
        return [f"{indent}server {addr};" for addr in values["web"]] if first else []
    if name == "server_name":
        return [f"{indent}server_name {values['server_name']};"]
    if name == "listen" and (values["listen"] or values["plain"]):
        suffix = "" if values["plain"] else " ssl http2"
        return [f"{indent}listen {addr}{suffix};" for addr in values["listen"] or ["80"]] if first else []
    if name == "tls":
        if values["plain"]:
            return []
        if values["cert"] and line.lstrip().startswith("ssl_certificate "):
            return [f"{indent}ssl_certificate     {_quote(values['cert'])};"]
        if values["key"] and line.lstrip().startswith("ssl_certificate_key "):
            return [f"{indent}ssl_certificate_key {_quote(values['key'])};"]
    if name == "data":
        return [f"{indent}alias {_quote(_folder(values['data_dir']))};"]
    return [line]


def _block(lines: list[str], library: list[str], values: dict, done: set[str]) -> list[str]:
    name = re.search(r"# @begin (\w+)", lines[0]).group(1)
    if name == "redirect":
        return [] if values["plain"] else [out for line in lines for out in _line(line, values, done)]
    if name == "library":
        head = [line for line in lines if line.lstrip().startswith("#")]
        body = [line for line in lines if not line.lstrip().startswith("#")]
        rendered = head[:-1]
        for root in library:
            folder = _folder(root)
            for line in body:
                rendered.append(line.replace(f"{X_ACCEL_PREFIX}/files{_EXAMPLE_ROOT}",
                                             _quote(f"{X_ACCEL_PREFIX}/files{folder}"))
                                .replace(f"alias {_EXAMPLE_ROOT};", f"alias {_quote(folder)};"))
        return rendered + head[-1:]
    raise ValueError(f"template: unknown block '@begin {name}'")


def standalone_conf(site: Path, prefix: Path, access_log_format: str | None = None, workers: str = "1") -> str:
    """A whole nginx.conf around `site` for `nginx -p <prefix> -c <this>`: in the foreground, with its
    pid, logs and temporary files under `prefix` (for tests and benchmarks, not for a real server);
    an access log `prefix/access.log` in `access_log_format`, none without one."""
    log_format = f"    log_format stack '{access_log_format}';\n" if access_log_format else ""
    access_log = f"{prefix}/access.log stack" if access_log_format else "off"
    user = "user root;\n" if os.geteuid() == 0 else ""  # the workers read the (0700) temporary folders
    temps = "".join(f"    {kind}_temp_path {prefix}/tmp/{kind};\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}daemon off;\nworker_processes {workers};\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log info;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            f"{log_format}    access_log {access_log};\n{temps}    include {site};\n}}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-name", default="_", help="the site's host name (default: any)")
    parser.add_argument("--web", action="append", required=True, help="a web process's host:port (repeat)")
    parser.add_argument("--data-dir", default=os.environ.get("MEDIASERVER_DATA_DIR"), help="MEDIASERVER_DATA_DIR")
    parser.add_argument("--library", action="append", help="a library folder (repeat; default: MEDIASERVER_LIBRARY)")
    parser.add_argument("--cert", help="TLS certificate (PEM chain)")
    parser.add_argument("--key", help="TLS private key")
    parser.add_argument("--plain", action="store_true", help="no TLS and no redirect server (loopback only)")
    parser.add_argument("--listen", action="append", help="with --plain: address to listen on (repeat)")
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("--data-dir (or MEDIASERVER_DATA_DIR) is required")
    library = args.library or [p for p in os.environ.get("MEDIASERVER_LIBRARY", "").split(os.pathsep) if p]
    sys.stdout.write(render(args.template.read_text(), web=args.web, server_name=args.server_name,
                            data_dir=args.data_dir, library=library, listen=args.listen, plain=args.plain,
                            cert=args.cert, key=args.key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
