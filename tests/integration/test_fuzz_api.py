"""Fuzzing the JSON API with hypothesis: every `/api/...` route and the stream routes, each method,
as an admin and as a party guest, with generated path parameters (real ids, 0, 2**31, 2**63, 2**64, text),
query strings and bodies (arbitrary JSON, the route's own keys with values of any type, huge numbers,
unicode, nesting, and bodies that are not JSON at all). No answer may be a 500, and every error is
JSON with a `message`.

Reproducible: `derandomize=True` (examples come from a fixed seed per test), no example database;
MEDIASERVER_FUZZ_EXAMPLES raises the number of examples for a deeper run.
"""
from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediaserver import tokens
from tests.integration.security_world import ADMIN, GUEST, world_fixture

#: Examples per route, method and principal (routes that read a body get twice as many); a deeper run:
#: MEDIASERVER_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest tests/integration/test_fuzz_api.py
MAX_EXAMPLES = int(os.environ.get("MEDIASERVER_FUZZ_EXAMPLES", "30"))

#: The keys each route reads from its JSON body (docs/API.md): the fuzzer gives them values of any type.
BODY_KEYS = {
    "/api/auth/login": ("username", "password"),
    "/api/parties": ("media_file_id",),
    "/api/parties/<code>/join": ("name",),
    "/api/media-files/<int:media_id>/position": ("position_ms",),
    "/api/library/<kind>/<int:row_id>/match": ("tmdb_id",),
    "/api/playback-errors": ("media_file_id", "kind", "message", "party"),
}
#: Query parameters the routes read.
QUERY_KEYS = ("page", "per_page", "q", "genre", "year", "sort", "order", "limit", "kind", "media_file_id")

HUGE = [2**63, 2**64, 10**30, 2**63 - 1, -2**63 - 1, 2**53 + 1, 2**31]  # past SQL's BIGINT first, INTEGER last
integers = st.one_of(st.integers(), st.sampled_from(HUGE + [-x for x in HUGE] + [0, -1]))
scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(), st.text(max_size=50),
                    st.sampled_from(["", " ", "\x00", "\u202e", "💥" * 20, "a" * 5000, "../../etc/passwd",
                                     "movie", "tv", "network", "'; DROP TABLE users; --", "%", "_"]))
json_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)), max_leaves=12)
#: A value for a key the route reads: mostly the edge cases (huge, negative, wrong type), else anything.
edge_values = st.sampled_from(HUGE + [0, -1, 1, True, False, None, "", "1", 1.5, float("inf"), [], {}, [1], {"a": 1}])
key_values = st.one_of(edge_values, edge_values, scalars, json_values)
query_values = st.one_of(st.sampled_from([str(x) for x in HUGE] + ["", "-1", "0", "1e3", "١٢", "title", "desc",
                                                                     "movie", "\x00", "%", "asc"]),
                         st.text(max_size=30), integers.map(str))


world = world_fixture("fuzz")


def fuzzed_routes(app) -> list[tuple[str, str]]:
    """Every JSON route: /api/..., and the stream URLs (/hls/..., /media/<id>/<token>/...)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/hls/")) or (rule.rule.startswith("/media/") and "<token>" in rule.rule):
            found |= {(rule.rule, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return sorted(found)


def _routes_for_params():
    # The routes are known only once an app exists; this app only lists them (no database, no Redis).
    import tempfile
    from pathlib import Path

    from mediaserver import create_app
    from tests.helpers import app_config

    with tempfile.TemporaryDirectory() as base:
        return fuzzed_routes(create_app(app_config(Path(base))))


ROUTES = _routes_for_params()


def path_param(world, rule: str, name: str, converter: str):
    ids = world.ids
    if converter == "int":
        real = {"media_id": [ids["direct"], ids["hls"], ids["leak"]], "movie_id": [ids["movie"]],
                "show_id": [ids["show"]], "row_id": [ids["movie"], ids["show"]], "job_id": [ids["job"]],
                "scan_id": [ids["scan"]]}.get(name, [1])
        real = st.sampled_from([str(i) for i in real])  # most examples reach the route's code
        edges = ["0", str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(2**64), "-1", "01", "1.0", "1e3", "١"]
        return st.one_of(real, real, real, st.sampled_from(edges), st.integers(min_value=0, max_value=2**80).map(str))
    if name == "code":
        return st.one_of(st.just("@party"), st.just("@party"), st.just("@other-party"), st.text(min_size=1, max_size=30))
    if name == "kind":
        return st.one_of(st.sampled_from(["movies", "shows"]), st.text(min_size=1, max_size=10))
    if name == "token":
        return st.one_of(st.just("@token"), st.just("@token"), st.text(min_size=1, max_size=60))
    return st.one_of(st.sampled_from(["master.m3u8", "v0/index.m3u8", "x0", "..", "%2e%2e", "/etc/passwd",
                                      "master.m3u8\x00.png", "\x00"]),
                     st.text(min_size=1, max_size=40))


def request_strategy(world, rule: str, method: str):
    params = re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule)
    parts = {name: path_param(world, rule, name, converter or "string") for converter, name in params}
    keys = BODY_KEYS.get(rule, ())
    bodies = st.one_of(
        st.fixed_dictionaries({k: key_values for k in keys}) if keys else json_values,
        st.fixed_dictionaries({k: key_values for k in keys}) if keys else json_values,
        st.fixed_dictionaries({}, optional={k: key_values for k in keys}),
        json_values,
        st.sampled_from([[1], [{}], ["x"], "text", 1, 2**64, None, True, {"": None}]),  # not an object
        st.binary(max_size=64).map(lambda b: ("raw", b)),
        st.just(("raw", b'{"name": ')),
    )
    query = st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), st.sampled_from(QUERY_KEYS), st.text(max_size=8)),
                            query_values, max_size=4)
    body = bodies if method in ("POST", "PUT", "PATCH", "DELETE") else st.none()
    return st.fixed_dictionaries({"parts": st.fixed_dictionaries(parts), "query": query, "body": body})


def stream_token(world, principal: str, media_id: str) -> str:
    """A valid stream token of the principal for `media_id` (alice's, or the guest's party's)."""
    media = int(media_id) if media_id.isdigit() else 0
    party_id = world.party_ids[world.code] if principal == GUEST else None
    return tokens.issue(world.app.config["SECRET_KEY"], 0 if principal == GUEST else 1, media, 600, time.time(),
                        party_id)[0]


def substitute(world, principal: str, rule: str, parts: dict) -> str:
    def value(match):
        name = match[2]
        raw = parts[name]
        if raw == "@party":
            raw = world.new_party() if rule.endswith("/end") else world.code
        elif raw == "@other-party":
            raw = world.hls_code
        elif raw == "@token":
            raw = stream_token(world, principal, parts.get("media_id", ""))
        return quote(raw, safe="/" if match[1] == "path" else "")
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule)


def check(response, url: str) -> None:
    status = response.status_code
    text = response.get_data()[:300].decode("utf-8", "replace")
    assert status < 500, f"{status} for {url}: {text}"
    if status >= 400:
        assert response.is_json, f"{status} for {url} is not JSON: {text}"
        assert isinstance(response.json.get("message"), str) and response.json["message"], text


@pytest.mark.parametrize("principal", [ADMIN, GUEST])
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r[1]} {r[0]}")
def test_no_input_makes_a_500(world, route, principal):
    rule, method = route

    @settings(max_examples=MAX_EXAMPLES * (2 if rule in BODY_KEYS else 1), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(request_strategy(world, rule, method))
    def run(example):
        url = substitute(world, principal, rule, example["parts"])
        if example["query"]:
            url += "?" + urlencode(example["query"])
        kwargs = {}
        body = example["body"]
        if isinstance(body, tuple):
            kwargs = {"data": body[1], "content_type": "application/json"}
        elif body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        response = world.client(principal).open(url, method=method, buffered=False, **kwargs)
        try:
            if response.mimetype == "text/event-stream":
                assert response.status_code == 200
                first = next(iter(response.response))  # one message: the stream's query runs
                assert first.startswith(b"data: ")
            else:
                check(response, url)
        finally:
            response.close()

    run()


def test_every_json_route_is_fuzzed(world):
    assert set(fuzzed_routes(world.app)) == set(ROUTES)
    assert {r for r, _ in ROUTES} >= set(BODY_KEYS)
