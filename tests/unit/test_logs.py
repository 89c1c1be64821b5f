"""mediaserver/logs.py: JSON lines with the `extra=` fields, text with them appended, one handler however often set up."""
import json
import logging
import sys

from mediaserver import logs


def record(**extra) -> logging.LogRecord:
    return logging.getLogger("mediaserver.test").makeRecord("mediaserver.test", logging.INFO, __file__, 1,
                                                            "scan finished: %s", ("added 1",), None, extra=extra)


def test_json_lines_hold_time_level_logger_message_and_the_extra_fields():
    line = logs.JsonFormatter().format(record(scan_id=3, added=1, duration_s=0.25, path=object()))
    entry = json.loads(line)
    assert "\n" not in line
    assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "mediaserver.test", "scan finished: added 1")
    assert entry["time"].endswith("+00:00") and (entry["scan_id"], entry["added"], entry["duration_s"]) == (3, 1, 0.25)
    assert entry["path"].startswith("<object object")  # what JSON cannot hold is written as text


def test_a_traceback_stays_inside_its_json_object():
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(logs.JsonFormatter().format(rec))
    assert "ValueError: boom" in entry["exc_info"]


def test_text_lines_append_the_extra_fields():
    assert logs.TextFormatter().format(record(job_id=4, outcome="failed")).endswith(
        "mediaserver.test INFO scan finished: added 1 job_id=4 outcome=failed")
    assert logs.TextFormatter().format(record()).endswith("INFO scan finished: added 1")


def test_setup_installs_one_handler_and_switches_its_format(capsys):
    root = logging.getLogger()
    try:
        first = logs.setup("json")
        assert logs.setup("json") is first
        assert [h for h in root.handlers if getattr(h, "_mediaserver", False)] == [first]
        logging.getLogger("mediaserver.test").info("hello", extra={"party_id": 9})
        assert json.loads(capsys.readouterr().err)["party_id"] == 9  # written to the sys.stderr of the moment
    finally:
        logs.setup("text")
    assert isinstance(first.formatter, logs.TextFormatter)


def test_a_text_line_stays_one_line_whatever_its_message_and_fields_hold():
    forged = "alice\n2026-12-02 00:00:00,000 mediaserver.auth INFO admin logged in"
    rec = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "guest %s joined", (forged,), None,
                                            extra={"member": "g1\r\x1b[31m\u2028"})
    line = logs.TextFormatter().format(rec)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert line.endswith("guest alice\\n2026-12-02 00:00:00,000 mediaserver.auth INFO admin logged in joined "
                         "member=g1\\r\\x1b[31m\\u2028")


def test_a_traceback_below_a_text_line_is_indented():
    try:
        raise ValueError("boom\n2026-12-02 00:00:00,000 mediaserver INFO forged")
    except ValueError:
        rec = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    head, *below = logs.TextFormatter().format(rec).split("\n")
    assert head.endswith("x ERROR failed") and below[0] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in below) and "  2026-12-02 00:00:00,000 mediaserver INFO forged" in below
