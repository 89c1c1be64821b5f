"""The TMDB v3 client (I/O edge): search, details, images, with retries and an optional disk cache.
Its errors are `exceptions.TMDBError` (importable without this module, and so without requests).

Matching itself is pure and lives in `match.py`; `find_movie` / `find_show` only fetch candidates
and call `match.choose`. One client per thread (a `requests.Session` is not meant to be shared).
"""
from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from ..exceptions import TMDBError
from .match import Candidate, MatchDecision, choose

log = logging.getLogger("mediaserver.tmdb")

# TMDB docs, "Getting started": every v3 path hangs off this base.
DEFAULT_API_BASE = "https://api.themoviedb.org/3"
# TMDB docs, "Rate limiting": about 40 requests/s per key, over it they answer 429 + Retry-After.
# We wait what Retry-After says, but never longer than this (our choice: a scan must not stall).
MAX_RETRY_AFTER_S = 30.0
# 429 and 5xx (TMDB status codes 9, 11, 15, 24, 25: offline, internal error, failed, backend
# timeout, over the limit) are worth retrying; other 4xx (401 key, 404 id, 422 params) are not.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# TMDB docs, "Authentication": a v3 API key is 32 hex characters (query parameter `api_key`);
# a v4 API Read Access Token is a JWT (three base64url parts, starting "eyJ"), sent as Bearer.
_V3_KEY = re.compile(r"^[0-9a-fA-F]{32}$")
_V4_TOKEN = re.compile(r"^eyJ[\w-]*\.[\w-]+\.[\w-]+$")


def _year(date: str | None) -> int | None:
    """"1987-07-17" -> 1987; "" or None (TMDB sends "" for unknown dates) -> None."""
    return int(date[:4]) if date and date[:4].isdigit() else None


def candidate_from_result(kind: str, item: dict) -> Candidate:
    """One entry of a /search/movie or /search/tv `results` list -> Candidate."""
    is_tv = kind == "tv"
    return Candidate(
        tmdb_id=int(item["id"]),
        kind=kind,
        title=item.get("name" if is_tv else "title") or "",
        original_title=item.get("original_name" if is_tv else "original_title"),
        year=_year(item.get("first_air_date" if is_tv else "release_date")),
        overview=item.get("overview") or None,
        poster_path=item.get("poster_path"),
        popularity=float(item.get("popularity") or 0.0),
        origin_country=tuple(item.get("origin_country") or ()),
    )


class TMDBClient:
    """TMDB v3 over one `requests.Session`.

    api_key: a v3 key (32 hex chars) -> `api_key` query parameter; a v4 read access token (JWT)
    -> `Authorization: Bearer`; anything else raises ValueError. The key never enters a cache
    key, our log lines or an error message, and is never sent with `download` (images need none).
    (urllib3 itself logs request URLs at DEBUG on "urllib3.connectionpool": a v3 key is in them.)
    timeout_s: connect and read timeout per request (s). Retries (429, 5xx, timeouts, connection
    errors): up to `max_retries` after the first try, waiting Retry-After (capped at
    MAX_RETRY_AFTER_S) when given, else backoff_s * 2**attempt (s); `sleep` is injectable.
    cache_dir: when given, every 200 JSON answer is kept there as `<sha256>.json`, keyed by path +
    sorted params (without the key), with no expiry: delete the folder to refresh.
    image_dir: where `save_image` keeps posters and backdrops (downloaded once, never hotlinked).
    requests_sent: HTTP requests actually sent, retries included, cache hits not.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_API_BASE,
        cache_dir: str | None = None,
        timeout_s: float = 10.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        sleep: Callable[[float], Any] = time.sleep,
        language: str = "en-US",
        image_dir: str | None = None,
    ) -> None:
        api_key = api_key.strip()
        if _V3_KEY.match(api_key):
            self._auth_params, self._auth_headers = {"api_key": api_key}, {}
        elif _V4_TOKEN.match(api_key):
            self._auth_params, self._auth_headers = {}, {"Authorization": f"Bearer {api_key}"}
        else:
            raise ValueError("TMDB key is neither a v3 API key (32 hex) nor a v4 read access token")
        self.base_url = base_url.rstrip("/")
        self.cache_dir = cache_dir
        self.image_dir = image_dir
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.language = language
        self.requests_sent = 0
        self._config: dict | None = None
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if cache_dir:
            os.makedirs(cache_dir, exist_ok=True)

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self.session.close()

    # -- endpoints -------------------------------------------------------------------------------

    def search_movie(self, query: str, year: int | None = None) -> list[Candidate]:
        """GET /search/movie (page 1, no adult titles) -> candidates in TMDB's order."""
        params: dict[str, Any] = {"query": query, "include_adult": "false", "page": 1, "language": self.language}
        if year is not None:
            params["year"] = year
        return [candidate_from_result("movie", r) for r in self.get_json("/search/movie", params).get("results", [])]

    def find_by_imdb(self, imdb_id: str) -> tuple[str, int] | None:
        """GET /find/{imdb_id}?external_source=imdb_id -> ("movie", tmdb id), ("tv", tmdb id) or None."""
        data = self.get_json(f"/find/{imdb_id}", {"external_source": "imdb_id", "language": self.language})
        for kind, key in (("movie", "movie_results"), ("tv", "tv_results")):
            if data.get(key):
                return kind, int(data[key][0]["id"])
        return None

    def search_tv(self, query: str, first_air_date_year: int | None = None) -> list[Candidate]:
        """GET /search/tv (page 1, no adult titles) -> candidates in TMDB's order."""
        params: dict[str, Any] = {"query": query, "include_adult": "false", "page": 1, "language": self.language}
        if first_air_date_year is not None:
            params["first_air_date_year"] = first_air_date_year
        return [candidate_from_result("tv", r) for r in self.get_json("/search/tv", params).get("results", [])]

    def movie(self, tmdb_id: int) -> dict:
        """GET /movie/{id}?append_to_response=credits: TMDB's raw JSON (title, runtime in min, credits.cast...)."""
        return self.get_json(f"/movie/{int(tmdb_id)}", {"append_to_response": "credits", "language": self.language})

    def tv(self, tmdb_id: int) -> dict:
        """GET /tv/{id}?append_to_response=credits: TMDB's raw JSON (name, seasons, credits.cast...)."""
        return self.get_json(f"/tv/{int(tmdb_id)}", {"append_to_response": "credits", "language": self.language})

    def season(self, tv_id: int, season_number: int) -> dict:
        """GET /tv/{id}/season/{n}: raw JSON with `episodes` (episode_number, name, air_date...)."""
        return self.get_json(f"/tv/{int(tv_id)}/season/{int(season_number)}", {"language": self.language})

    def episode(self, tv_id: int, season_number: int, episode_number: int) -> dict:
        """GET /tv/{id}/season/{n}/episode/{e}: raw JSON (name, overview, air_date, still_path...)."""
        path = f"/tv/{int(tv_id)}/season/{int(season_number)}/episode/{int(episode_number)}"
        return self.get_json(path, {"language": self.language})

    def configuration(self) -> dict:
        """GET /configuration (image base URLs and sizes), fetched once per client."""
        if self._config is None:
            self._config = self.get_json("/configuration", {})
        return self._config

    def image_url(self, path: str, size: str = "w500") -> str:
        """images.secure_base_url + size + path, e.g. ".../t/p/" + "w500" + "/abc.jpg" (TMDB docs, "Images")."""
        base = self.configuration()["images"]["secure_base_url"]
        return f"{base.rstrip('/')}/{size}/{path.lstrip('/')}"

    def download(self, url: str) -> bytes:
        """GET an absolute URL (a poster) and return its bytes; same retries and timeout, never cached.

        Raises TMDBError as the JSON calls do.
        """
        return self._send(url, {}, {}).content

    def save_image(self, tmdb_path: str | None, size: str) -> str | None:
        """Download TMDB image `tmdb_path` ("/abc.jpg") at `size` ("w500") into `image_dir` once; returns
        the stored file name (`tmdb-<size>-<name>`). None when there is no image or no `image_dir`, or
        when the download fails (logged: a missing poster must never fail a scan; the title keeps its old one)."""
        if not tmdb_path or not self.image_dir:
            return None
        name = f"tmdb-{size}-{re.sub(r'[^A-Za-z0-9._-]', '', tmdb_path.lstrip('/'))}"
        target = os.path.join(self.image_dir, name)
        if not os.path.exists(target):
            try:
                data = self.download(self.image_url(tmdb_path, size))
            except (TMDBError, KeyError, TypeError) as exc:  # TMDB down, or a /configuration without images
                log.warning("poster %s not downloaded: %s", tmdb_path, exc)
                return None
            os.makedirs(self.image_dir, exist_ok=True)
            tmp = f"{target}.{os.getpid()}.part"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        return name

    # -- matching --------------------------------------------------------------------------------

    def find_movie(self, title: str, year: int | None) -> MatchDecision:
        """The TMDB movie that `title` (a name guess) and `year` (or None) name, chosen by confidence:
        /search/movie with the year; when no candidate reaches `match.MATCH_THRESHOLD`, once more without
        it (TMDB's year filter is strict: a file dated +-1 year, or a title TMDB has without a date, only
        shows up unfiltered). Returns a MatchDecision: `best` (a Candidate, or None below the threshold:
        never "first result wins") and the `scored` candidates, best first. Raises TMDBError when TMDB
        cannot answer after the client's retries."""
        return self._find(lambda y: self.search_movie(title, y), title, year, None)

    def find_show(self, title: str, year: int | None, country: str | None = None) -> MatchDecision:
        """Like `find_movie`, with /search/tv and `first_air_date_year`; `country` (ISO 3166-1 alpha-2,
        from the name: "The Office (UK)") adds `match.COUNTRY_BONUS` to the shows of that origin.
        Raises TMDBError."""
        return self._find(lambda y: self.search_tv(title, y), title, year, country)

    def _find(self, search: Callable[[int | None], list[Candidate]], title: str, year: int | None,
              country: str | None) -> MatchDecision:
        candidates = search(year)
        decision = choose(title, year, candidates, country)
        if decision.best is not None or year is None:
            return decision
        # TMDB's year filter is strict, so a file dated +-1 year or a title TMDB has without a
        # date only shows up unfiltered; keep the first answers too, de-duplicated by id.
        seen = {c.tmdb_id for c in candidates}
        candidates += [c for c in search(None) if c.tmdb_id not in seen]
        return choose(title, year, candidates, country)

    # -- HTTP ------------------------------------------------------------------------------------

    def get_json(self, path: str, params: dict[str, Any]) -> dict:
        """GET base_url + path with params (+ the key) -> JSON object, through the disk cache.

        Raises TMDBError on a non-200 answer (after retries for 429/5xx) or a body that is not JSON.
        """
        params = {k: str(v) for k, v in params.items()}
        cache_file = self._cache_file(path, params)
        if cache_file and os.path.exists(cache_file):
            try:
                with open(cache_file, encoding="utf-8") as fh:
                    return json.load(fh)["data"]
            except (OSError, ValueError, KeyError):
                log.warning("TMDB cache file %s unreadable; fetching again", cache_file)
        response = self._send(self.base_url + path, {**params, **self._auth_params}, self._auth_headers)
        try:
            data = response.json()
        except ValueError:
            raise TMDBError(f"TMDB {response.status_code}: {path} did not answer JSON", response.status_code) from None
        if cache_file:
            tmp = f"{cache_file}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"path": path, "params": params, "data": data}, fh)
            os.replace(tmp, cache_file)  # atomic: a concurrent reader sees the old file or the new one
        return data

    def _cache_file(self, path: str, params: dict[str, str]) -> str | None:
        if not self.cache_dir:
            return None
        key = json.dumps([path, sorted(params.items())], ensure_ascii=False)
        return os.path.join(self.cache_dir, hashlib.sha256(key.encode("utf-8")).hexdigest() + ".json")

    def _send(self, url: str, params: dict[str, str], headers: dict[str, str]) -> requests.Response:
        """One GET with retries; returns a 200 response or raises TMDBError (status or None)."""
        shown = url.split("?")[0]
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            self.requests_sent += 1
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout_s)
            except (requests.Timeout, requests.ConnectionError) as exc:
                # `from None` and no str(exc): requests puts the full URL, api_key included, in it.
                if last:
                    raise TMDBError(f"TMDB unreachable: {type(exc).__name__} on {shown} after "
                                    f"{attempt + 1} attempts (timeout {self.timeout_s:g} s)") from None
                self._wait(attempt, None, f"{type(exc).__name__} on {shown}")
                continue
            except requests.RequestException as exc:  # a bad TMDB_API_BASE and the like: retrying won't help
                raise TMDBError(f"TMDB request failed: {type(exc).__name__} on {shown}") from None
            if response.status_code == 200:
                return response
            message = _status_message(response)
            if response.status_code not in RETRY_STATUSES or last:
                raise TMDBError(f"TMDB {response.status_code}: {message} ({shown})", response.status_code)
            self._wait(attempt, response.headers.get("Retry-After"), f"{response.status_code} on {shown}")
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay_s = _parse_retry_after(retry_after)
        if delay_s is None:
            delay_s = self.backoff_s * 2**attempt
        delay_s = min(delay_s, MAX_RETRY_AFTER_S)
        log.warning("TMDB %s; retry %d/%d in %.1f s", why, attempt + 1, self.max_retries, delay_s)
        self.sleep(delay_s)


def _status_message(response: requests.Response) -> str:
    """TMDB's error JSON {"status_code": 7, "status_message": "...", "success": false} -> message."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("status_message"):
            return str(body["status_message"])
    except ValueError:
        pass
    return response.reason or "error"


def _parse_retry_after(value: str | None) -> float | None:
    """RFC 9110 Retry-After: delay in seconds or an HTTP date -> seconds (>= 0); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
