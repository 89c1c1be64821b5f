"""A fake TMDB v3 on 127.0.0.1 (random port) for tests: same paths, JSON shapes and error bodies.

Use: take `fake_tmdb` as a test argument (tests/conftest.py registers this module as a plugin).
Data: tests/tmdb_data/*.json (see its README.md). Search results are built from the detail
objects with the fields TMDB's search answers carry. Special queries: /search/movie "Rate Limited"
answers 429 + Retry-After: 1 on its first request since reset(); "Slow Answer" sleeps `slow_s`.
/img/<size>/<file> serves one tiny valid PNG for any file name.
"""
from __future__ import annotations

import json
import secrets
import struct
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

DATA = Path(__file__).parent / "tmdb_data"
# TMDB docs, "Status codes": the JSON bodies TMDB sends with these HTTP statuses.
INVALID_KEY = {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.", "success": False}
NOT_FOUND = {"status_code": 34, "status_message": "The resource you requested could not be found.", "success": False}
OVER_LIMIT = {"status_code": 25, "status_message": "Your request count (#) is over the allowed limit of (40).",
              "success": False}
# Fields of a /search/movie and /search/tv result (TMDB API reference, "Search").
MOVIE_RESULT_FIELDS = ("adult", "backdrop_path", "id", "original_language", "original_title", "overview",
                       "popularity", "poster_path", "release_date", "title", "video", "vote_average", "vote_count")
TV_RESULT_FIELDS = ("adult", "backdrop_path", "id", "origin_country", "original_language", "original_name",
                    "overview", "popularity", "poster_path", "first_air_date", "name", "vote_average", "vote_count")


def tiny_png(width: int = 2, height: int = 3) -> bytes:
    """A valid RGB PNG (PNG spec: signature, IHDR, IDAT with zlib scanlines, IEND), gray pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _norm_query(text: str) -> str:
    """TMDB's search ignores case and accents; so does the fake's table lookup."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class FakeTMDB:
    """The server's state: keys it accepts, data, and the (path, params) of every request received."""

    def __init__(self) -> None:
        self.api_key = secrets.token_hex(16)  # a v3 key: 32 hex chars
        self.read_token = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJmYWtlLXRtZGIifQ.ZmFrZS1zaWduYXR1cmU"  # v4 JWT shape
        self.movies, self.shows = _load("movies.json"), _load("tv.json")
        self.seasons, self.searches = _load("seasons.json"), _load("searches.json")
        self.png = tiny_png()
        self.slow_s = 1.5  # "Slow Answer" delay (s): longer than the timeout tests give the client
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base_url = ""
        self._lock = threading.Lock()
        self._rate_limited_once = False

    def reset(self) -> None:
        """Forget received requests and re-arm the one-time 429 of "Rate Limited"."""
        with self._lock:
            self.requests.clear()
            self._rate_limited_once = False

    def api_paths(self) -> list[str]:
        """Received paths relative to the API root ("/search/movie"), images left out."""
        return [p[len("/3"):] for p, _ in self.requests if p.startswith("/3/")]

    # -- routing: returns (HTTP status, JSON body or bytes, extra headers) ---------------------

    def answer(self, path: str, params: dict[str, str], auth: str | None) -> tuple[int, object, dict[str, str]]:
        with self._lock:
            self.requests.append((path, dict(params)))
        if path.startswith("/img/"):
            return 200, self.png, {"Content-Type": "image/png"}
        if not path.startswith("/3/"):
            return 404, NOT_FOUND, {}
        if params.get("api_key") != self.api_key and auth != f"Bearer {self.read_token}":
            return 401, INVALID_KEY, {}
        parts = path[len("/3/"):].strip("/").split("/")
        if parts == ["configuration"]:
            return 200, self.configuration(), {}
        if parts[0] == "search" and len(parts) == 2 and parts[1] in ("movie", "tv"):
            return self.search(parts[1], params)
        if parts[0] == "find" and len(parts) == 2:
            return 200, self.find(parts[1], params), {}
        table = self.movies if parts[0] == "movie" else self.shows if parts[0] == "tv" else {}
        if len(parts) == 2 and parts[1] in table:
            return 200, self.details(table[parts[1]], params), {}
        if parts[0] == "tv" and len(parts) >= 4 and parts[2] == "season":
            season = self.seasons.get(f"{parts[1]}/{parts[3]}")
            if season and len(parts) == 4:
                return 200, season, {}
            if season and len(parts) == 6 and parts[4] == "episode":
                for episode in season["episodes"]:
                    if str(episode["episode_number"]) == parts[5]:
                        return 200, episode, {}
        return 404, NOT_FOUND, {}

    def find(self, external_id: str, params: dict[str, str]) -> dict:
        """TMDB's /find/{external_id}?external_source=imdb_id: movie_results and tv_results."""
        if params.get("external_source") != "imdb_id":
            return {"movie_results": [], "tv_results": []}

        def matches(item: dict) -> bool:
            return (item.get("imdb_id") or (item.get("external_ids") or {}).get("imdb_id")) == external_id

        return {"movie_results": [{"id": m["id"], "title": m["title"]} for m in self.movies.values() if matches(m)],
                "tv_results": [{"id": t["id"], "name": t["name"]} for t in self.shows.values() if matches(t)],
                "person_results": [], "tv_episode_results": [], "tv_season_results": []}

    def configuration(self) -> dict:
        images = f"{self.base_url.rsplit('/3', 1)[0]}/img/"
        return {"images": {"base_url": images, "secure_base_url": images,
                           "backdrop_sizes": ["w300", "w780", "w1280", "original"],
                           "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
                           "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
                           "profile_sizes": ["w45", "w185", "h632", "original"],
                           "still_sizes": ["w92", "w185", "w300", "original"]},
                "change_keys": ["adult", "air_date", "also_known_as", "biography", "birthday", "cast", "crew",
                                "episode", "genres", "images", "name", "overview", "poster", "release_dates",
                                "runtime", "season", "title", "videos"]}

    @staticmethod
    def details(item: dict, params: dict[str, str]) -> dict:
        """Detail JSON; `credits` only when append_to_response asks for it, as TMDB does."""
        appended = params.get("append_to_response", "").split(",")
        return {k: v for k, v in item.items() if k != "credits" or "credits" in appended}

    def search(self, kind: str, params: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        query = _norm_query(params.get("query", ""))
        if kind == "movie" and query == "rate limited":
            with self._lock:
                first, self._rate_limited_once = not self._rate_limited_once, True
            if first:
                return 429, OVER_LIMIT, {"Retry-After": "1"}
        if kind == "movie" and query == "slow answer":
            time.sleep(self.slow_s)
        entry = self.searches[kind].get(query, {"ids": []})
        year = params.get("year" if kind == "movie" else "first_air_date_year")
        ids = entry["ids"]
        table, fields = (self.movies, MOVIE_RESULT_FIELDS) if kind == "movie" else (self.shows, TV_RESULT_FIELDS)
        date_field = "release_date" if kind == "movie" else "first_air_date"
        if year and year in entry.get("by_year", {}):
            ids = entry["by_year"][year]
        elif year:  # TMDB filters strictly on the year; the +-1 fallback is the client's job
            ids = [i for i in ids if table[str(i)][date_field][:4] == year]
        results = []
        for tmdb_id in ids:
            item = table[str(tmdb_id)]
            result = {k: item[k] for k in fields}
            result["genre_ids"] = [g["id"] for g in item["genres"]]
            results.append(result)
        return 200, {"page": 1, "results": results, "total_pages": 1 if results else 0,
                     "total_results": len(results)}, {}


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        status, body, headers = self.server.fake.answer(url.path, params, self.headers.get("Authorization"))
        payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json;charset=utf-8"))
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): nothing to answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep test output clean; FakeTMDB.requests is the log


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping "Slow Answer" handler must not block shutdown
    fake: FakeTMDB


@pytest.fixture
def fake_tmdb() -> Iterator[FakeTMDB]:
    """A running FakeTMDB: `.base_url` ("http://127.0.0.1:PORT/3"), `.api_key`, `.read_token`, `.requests`."""
    fake = FakeTMDB()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/3"
    # poll_interval (s): how soon shutdown() is noticed; the 0.5 s default adds 0.5 s to every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-tmdb",
                              daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
