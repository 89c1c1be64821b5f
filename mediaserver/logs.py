"""Logging set-up: one handler on the root logger, plain text (the default) or one JSON object per line
(`MEDIASERVER_LOG_FORMAT=json`, for a log shipper).

Code that logs an event worth searching for passes its facts as `extra=` fields (scans: scan id, counts,
duration; transcode jobs: job id, media id, attempt, outcome, duration; parties: party id, event,
member). The JSON format writes them as keys of the line's object, beside `time` (UTC, ISO 8601),
`level`, `logger` and `message`; the text format appends them as `key=value`.

A text line is one line whatever it logs: control characters in the message and the fields (a newline
in a guest's name, a path, a client's header) are written escaped (`\n`, `\x1b`), so that no input
forges a line of its own (OWASP: log injection, CWE-117); a traceback's lines below it are indented.

`setup` is idempotent: every `create_app` calls it (tests build many apps in one process), and the one
handler it installs is kept and only its format changed. The handler writes to whatever `sys.stderr`
is when a line is written (a test's capture, click's runner), not to the stream of the moment it was made.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators -> their escapes.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))} | {
    0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}
#: The attributes every LogRecord has: whatever else a record carries came from `extra=`.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def extra_fields(record: logging.LogRecord) -> dict:
    """The fields a record was given with `extra=` (in the order given)."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the `extra=` fields, and `exc_info`
    (the formatted traceback) when there is one. Values JSON cannot hold are written as `str()`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def escape(text: str) -> str:
    """`text` on one line: control characters and line separators as escapes (`\n`, `\x1b`, `\u2028`)."""
    return text.translate(_ESCAPES)


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, then the `extra=` fields as ` key=value`, on one line (`escape`); a traceback or
    stack below it, each of its lines indented by two spaces."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record) + "".join(f" {k}={escape(str(v))}" for k, v in extra_fields(record).items())
        below = []
        if record.exc_info:
            below.append(self.formatException(record.exc_info))
        if record.stack_info:
            below.append(self.formatStack(record.stack_info))
        return "\n".join([line] + ["  " + part for text in below for part in text.splitlines()])


class _StderrHandler(logging.StreamHandler):
    """A StreamHandler on the current `sys.stderr`, looked up at each write."""

    _mediaserver = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # StreamHandler.__init__ assigns it; the property wins
        pass


def setup(fmt: str = "text", level: int = logging.INFO) -> logging.Handler:
    """Install (once) the root logger's handler in format `fmt` ("text" or "json") and let records of
    `level` and above through. Returns the handler. Raises ValueError for another format."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_mediaserver", False)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler
