"""The transcode queue: retries for failures that may pass, none for undecodable input, the admin's
queue view with cancel and retry, and live progress as Server-Sent Events."""
import json
import shutil

import pytest
from rq.job import Job

from mediaserver.accounts import create_user, find_user, set_flags
from mediaserver.db import get_db
from mediaserver.models import TranscodeJob
from tests.helpers import PASSWORD, make_library, run_worker

FLAC = "audio/bear.flac"


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "lib", {"a/bear.flac": FLAC, "b/truncated.mp4": "broken/flower_truncated.mp4"})


def scan(app, library):
    assert app.test_cli_runner().invoke(args=["scan", str(library)]).exit_code == 0


def rows(app):
    with app.app_context():
        return [(j.media_file.path, j.status, j.attempts, j.error) for j in get_db().query(TranscodeJob).order_by(TranscodeJob.id)]


def test_a_killed_ffmpeg_is_retried_and_undecodable_input_is_not(app, library, tmp_path, auth_client):
    # An ffmpeg that is killed by a signal on its first run (as when the machine runs out of memory).
    marker = tmp_path / "killed-once"
    shim = tmp_path / "ffmpeg-killed-once"
    shim.write_text(f'#!/bin/sh\nif [ ! -e "{marker}" ]; then touch "{marker}"; kill -9 $$; fi\n'
                    f'exec "{shutil.which("ffmpeg")}" "$@"\n')
    shim.chmod(0o755)
    app.config.update(FFMPEG=str(shim), TRANSCODE_RETRY_INTERVALS_S=(0, 0))
    scan(app, library)
    assert auth_client.post("/api/media-files/1/transcode").status_code in (200, 202)
    assert auth_client.post("/api/media-files/2/transcode").status_code in (200, 202)
    run_worker(app)
    flac, truncated = rows(app)
    assert flac[:3] == ("a/bear.flac", "succeeded", 2) and flac[3] is None
    assert truncated[:3] == ("b/truncated.mp4", "failed", 1) and "decoding stopped" in truncated[3]
    # ffmpeg's own words, without the memory addresses of its log prefixes (`[mov,... @ 0x55d6...]`)
    assert "[mov,mp4,m4a,3gp,3g2,mj2] stream " in truncated[3] and "partial file" in truncated[3]
    assert " @ 0x" not in truncated[3]
    body = auth_client.get("/api/media-files/2/playback").json
    assert body["status"] == "failed" and "decoding stopped" in body["error"]


def test_admin_queue_lists_cancels_and_retries(app, library, auth_client):
    scan(app, library)
    auth_client.post("/api/media-files/1/transcode")
    (item,) = auth_client.get("/api/admin/transcodes").json["items"]
    assert (item["path"], item["status"], item["progress"], item["attempts"]) == ("a/bear.flac", "queued", 0.0, 0)
    cancelled = auth_client.post(f"/api/admin/transcodes/{item['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    with app.app_context():
        rq_id = get_db().get(TranscodeJob, item["id"]).rq_job_id
    assert Job.fetch(rq_id, connection=app.redis).get_status() == "canceled"
    assert auth_client.post(f"/api/admin/transcodes/{item['id']}/cancel").status_code == 409
    retried = auth_client.post(f"/api/admin/transcodes/{item['id']}/retry")
    assert retried.status_code == 201 and retried.json["status"] == "queued" and retried.json["id"] != item["id"]
    run_worker(app)
    assert [r[1] for r in rows(app)] == ["cancelled", "succeeded"]
    assert auth_client.post("/api/admin/transcodes/999/retry").status_code == 404


def test_progress_streams_as_server_sent_events(app, library, auth_client, client):
    scan(app, library)
    auth_client.post("/api/media-files/1/transcode")
    response = auth_client.get("/api/transcodes/events?media_file_id=1", buffered=False)
    assert response.mimetype == "text/event-stream"
    first = next(response.response).decode()
    assert first.startswith("data: ")
    (job,) = json.loads(first[len("data: "):])["jobs"]
    assert (job["media_file_id"], job["status"]) == (1, "queued")
    response.close()


def test_the_queue_is_for_admins(app, library, client):
    from mediaserver.accounts import create_user

    with app.app_context():
        create_user("bob", "bob-password-1", is_admin=False)
    client.post("/api/auth/login", json={"username": "bob", "password": "bob-password-1"})
    assert client.get("/api/admin/transcodes").status_code == 403
    assert client.get("/api/transcodes/events").status_code == 403
    assert client.post("/api/admin/transcodes/1/cancel").status_code == 403


def test_queueing_a_transcode_is_for_admins_and_users_granted_it(app, library, client, runner):
    """A viewer gets 403 JSON and queues nothing, and is shown no Transcode button; granted
    (`flask users set NAME --transcode`) he may queue one and sees the buttons."""
    scan(app, library)
    with app.app_context():
        create_user("bob", PASSWORD)
    assert client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).status_code == 200
    refused = client.post("/api/media-files/1/transcode")
    assert refused.status_code == 403 and refused.json["error"] == "Forbidden"
    assert "admins and users granted it" in refused.json["message"]
    assert rows(app) == [] and app.task_queue.count == 0
    assert 'data-can-transcode="no"' in client.get("/files").text
    assert 'class="transcode' not in client.get("/media/1").text
    granted = runner.invoke(args=["users", "set", "bob", "--transcode"])
    assert granted.exit_code == 0, granted.output
    assert granted.output.strip() == "user 'bob' (id 1): admin no, transcode grant yes: may queue transcodes"
    assert client.post("/api/media-files/1/transcode").status_code == 202
    assert [status for _path, status, _attempts, _error in rows(app)] == ["queued"] and app.task_queue.count == 1
    assert 'data-can-transcode="yes"' in client.get("/files").text
    assert 'class="transcode' in client.get("/media/2").text  # the other file: none queued yet


def test_users_set_changes_the_flags_given_and_says_when_the_role_changed(app, runner):
    with app.app_context():
        create_user("bob", PASSWORD)

    def users_set(*flags):
        result = runner.invoke(args=["users", "set", "bob", *flags])
        assert result.exit_code == 0, result.output
        return result.output.strip().removeprefix("user 'bob' (id 1): ")

    assert users_set() == "admin no, transcode grant no: may not queue transcodes"
    ended = "; role changed: every session of the user was logged out"
    assert users_set("--admin") == "admin yes, transcode grant no: may queue transcodes" + ended
    assert users_set("--admin", "--transcode") == "admin yes, transcode grant yes: may queue transcodes"
    assert users_set("--no-admin") == "admin no, transcode grant yes: may queue transcodes" + ended
    assert users_set("--no-transcode") == "admin no, transcode grant no: may not queue transcodes"
    unknown = runner.invoke(args=["users", "set", "nobody", "--admin"])
    assert unknown.exit_code == 1 and "no user named 'nobody'" in unknown.output


def test_set_flags_returns_whether_the_admin_role_changed(app):
    """The one place a role changes: its answer is what ends a user's sessions (True) or not."""
    with app.app_context():
        create_user("bob", PASSWORD)
        bob = find_user("bob")
        assert set_flags(bob) is False and set_flags(bob, may_transcode=True) is False
        assert set_flags(bob, is_admin=False) is False  # unchanged
        assert set_flags(bob, is_admin=True) is True and set_flags(bob, is_admin=True) is False
        assert set_flags(bob, is_admin=False, may_transcode=False) is True
    with app.app_context():  # committed: another session reads the same
        again = find_user("bob")
        assert (again.is_admin, again.may_transcode, again.can_transcode) == (False, False, False)
