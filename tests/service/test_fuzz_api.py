"""Schema-driven fuzzing of the API, schemathesis-style: every operation of the OpenAPI schema,
called with generated values of each parameter's declared type (and some hostile ones),
must answer with a status the API documents and, on error, with the one JSON error shape.
Never a 500, never a traceback, never the server's path.

Parameters are generated from the schema itself (`/openapi.json`), so a new endpoint is
fuzzed as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kartoteka.archive import Archive
from kartoteka.demo import build
from kartoteka.service.api import create_app

PASSWORD = "fuzzer's long passphrase"
HOSTILE = st.sampled_from(
    ["", " ", "'", '"', "\\", "../../etc/passwd", "%00", "\x00", "NEAR(a b)", "a OR", '"unclosed', "*", "-1",
     "9" * 40, "Зорин", "((NECHIPORENKO))", "doc-0000000000000000", "per-ffffffffffffffff", "<script>", "a" * 3000]
)  # fmt: skip
ALLOWED = {200, 400, 401, 403, 404, 409, 422, 429}


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
    if "integer" in kinds:
        lo, hi = schema.get("minimum", -(10**6)), schema.get("maximum", 10**6)
        return st.one_of(st.integers(min_value=lo - 5, max_value=hi + 5), HOSTILE)
    if "boolean" in kinds:
        return st.one_of(st.booleans(), HOSTILE)
    return st.one_of(st.text(max_size=60), HOSTILE)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], list[Any]]]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "demo.db"
    build(path).close()
    arch = Archive(path)
    try:
        arch.add_user("fuzzer", "U", [], PASSWORD)
    finally:
        arch.close()
    with TestClient(create_app(path), raise_server_exceptions=False) as client:
        token = client.post("/api/login", json={"user": "fuzzer", "password": PASSWORD}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        operations = []
        for route, methods in sorted(client.get("/openapi.json").json()["paths"].items()):
            if "get" in methods and route not in ("/api/logout",):
                params = [p for p in methods["get"].get("parameters", []) if p["name"] != "authorization"]
                operations.append((route, params))
        yield client, auth, operations


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_get_operation_answers_cleanly(served: tuple[TestClient, dict[str, str], list[Any]], data: Any) -> None:
    client, auth, operations = served
    route, params = data.draw(st.sampled_from(operations))
    url, query = route, {}
    for p in params:
        if not p.get("required") and data.draw(st.booleans()):
            continue
        value = data.draw(_value(p.get("schema", {})))
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", quote(str(value), safe="") or "x")
        else:
            query[p["name"]] = value
    r = client.get(url, params=query, headers=auth)
    assert r.status_code in ALLOWED, (route, query, r.status_code, r.text[:300])
    if r.status_code != 200:
        body = r.json()
        # One error shape for every refusal, FastAPI's own validation answers included.
        assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
        if "detail" in body:  # FastAPI's own validation, not a domain refusal (E024 ... are 422 too)
            assert r.status_code == 422 and body["error"] == "E113" and body["message"].startswith("[E113] Bad "), body
        assert "Traceback" not in r.text and str(Path.cwd()) not in r.text


def test_a_bad_query_parameter_is_a_usage_error_in_the_error_shape(
    served: tuple[TestClient, dict[str, str], list[Any]],
) -> None:
    client, auth, _ = served
    r = client.get("/api/check", params={"name": "Zorin", "limit": "0"}, headers=auth)
    assert r.status_code == 422
    body = r.json()
    assert (
        body["error"] == "E113"
        and body["message"] == "[E113] Bad query parameter 'limit': Input should be greater than or equal to 1"
    )
    assert body["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/api/no-such-thing", headers=auth).json() == {"error": "E020", "message": "Not found."}
    wrong = client.delete("/api/check", headers=auth)
    assert wrong.status_code == 405 and wrong.json()["error"] == "E113" and "GET" in wrong.headers["allow"]
