"""Logging set-up: one handler on the root logger, plain text (the default) or one JSON object per line
(`MEDIASERVER_LOG_FORMAT=json`, for a log shipper).

Code that logs an event worth searching for passes its facts as `extra=` fields (scans: scan id, counts,
duration; transcode jobs: job id, media id, attempt, outcome, duration; parties: party id, event,
member). The JSON format writes them as keys of the line's object, beside `time` (UTC, ISO 8601),
`level`, `logger` and `message`; the text format appends them as `key=value`.

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


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, then the `extra=` fields as ` key=value`."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        if not fields:
            return line
        head, sep, tail = line.partition("\n")  # a traceback stays below the fields
        return head + "".join(f" {k}={v}" for k, v in fields.items()) + sep + tail


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
