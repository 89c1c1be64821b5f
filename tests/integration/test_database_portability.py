"""What differs between SQLite and PostgreSQL and must not show: ids past PostgreSQL's 32-bit INTEGER,
text PostgreSQL cannot hold (NUL), time zones of stored moments. Run on both (`make test`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mediaserver.db import MAX_ID, get_db, new_session
from mediaserver.models import MediaFile, TranscodeJob, User
from tests.databases import backend

#: Past PostgreSQL's INTEGER (DataError there), past JavaScript's exact integers, SQLite's INTEGER's last.
HUGE_IDS = [MAX_ID + 1, 2**40, 2**53 + 1, 2**63 - 1]
ID_ROUTES = ["/api/media-files/{id}", "/api/media-files/{id}/playback", "/api/media-files/{id}/position",
             "/api/library/movies/{id}", "/api/library/shows/{id}", "/api/admin/scans/{id}"]


def json_error(response, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json and response.json.get("message"), response.get_data(as_text=True)[:300]
    return response.json


def test_an_id_past_the_databases_integer_is_a_json_404(auth_client):
    for route in ID_ROUTES:
        json_error(auth_client.get(route.format(id=MAX_ID)), 404)  # the largest: looked up, nothing found
        for number in HUGE_IDS:
            json_error(auth_client.get(route.format(id=number)), 404)


def test_a_huge_media_file_id_in_a_body_is_a_404_and_in_a_query_a_400(auth_client):
    for number in (MAX_ID + 1, -MAX_ID - 2, 2**40):
        json_error(auth_client.post("/api/parties", json={"media_file_id": number}), 404)
    for number in (MAX_ID + 1, 2**63 - 1):
        json_error(auth_client.get(f"/api/transcodes/events?media_file_id={number}"), 400)


def test_text_with_nul_is_refused_or_finds_nothing_never_a_500(auth_client):
    """PostgreSQL's text cannot hold NUL (DataError, the 400 of db.py's handler); SQLite finds nothing."""
    json_error(auth_client.post("/api/auth/login", json={"username": "ali\x00ce", "password": "x" * 12}), (400, 401))
    response = auth_client.get("/api/library/media-files?q=a%00b")
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert backend() == "postgresql" and response.json["message"]


def test_stored_moments_come_back_aware_in_utc(app, user):
    """SQLite keeps no offset and PostgreSQL answers in the connection's time zone: models.UTCDateTime
    gives every backend's moments back as aware UTC, and takes a naive one as UTC."""
    in_paris = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    with app.app_context():
        db = get_db()
        media = MediaFile(root="/r", path="a.mp4", size=1, mtime=0.0, status="ok", probed_at=in_paris)
        db.add(media)
        db.flush()
        db.add(TranscodeJob(media_file_id=media.id, status="running", heartbeat_at=datetime(2026, 3, 1, 11, 0)))
        db.commit()
    with app.app_context(), new_session() as session:
        created = session.scalar(select(User.created_at))
        probed = session.scalar(select(MediaFile.probed_at))
        beat = session.scalar(select(TranscodeJob.heartbeat_at))
        for moment in (created, probed, beat):
            assert moment.utcoffset() == timedelta(0), (backend(), moment)
        assert probed == in_paris and probed.hour == 11
        assert beat == datetime(2026, 3, 1, 11, 0, tzinfo=timezone.utc)
        assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)
        # comparisons in SQL see the same moments
        assert session.scalar(select(MediaFile.id).where(MediaFile.probed_at < in_paris + timedelta(seconds=1)))
        assert session.scalar(select(TranscodeJob.id).where(TranscodeJob.heartbeat_at == beat))


def test_the_api_shows_moments_with_their_utc_offset(app, auth_client):
    with app.app_context():
        db = get_db()
        media = MediaFile(root="/r", path="a.mp4", size=1, mtime=0.0, status="ok")
        db.add(media)
        db.flush()
        db.add(TranscodeJob(media_file_id=media.id, status="failed", finished_at=datetime(2026, 3, 1, 11, 0)))
        db.commit()
    job = auth_client.get("/api/admin/transcodes").json["items"][0]
    assert job["finished_at"] == "2026-03-01T11:00:00+00:00"
    assert job["created_at"].endswith("+00:00")


def test_one_active_job_per_file_is_held_by_the_database(app):
    """The partial unique index `uq_transcode_jobs_one_active` exists on both (sqlite_where, postgresql_where)."""
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        db = get_db()
        media = MediaFile(root="/r", path="a.mp4", size=1, mtime=0.0, status="ok")
        db.add(media)
        db.flush()
        db.add_all([TranscodeJob(media_file_id=media.id, status="succeeded"),
                    TranscodeJob(media_file_id=media.id, status="failed"),
                    TranscodeJob(media_file_id=media.id, status="queued")])
        db.commit()
        db.add(TranscodeJob(media_file_id=media.id, status="running"))
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()
