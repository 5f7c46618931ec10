"""Compartments over HTTP, differentially: every GET endpoint of the OpenAPI
schema, asked by a U user of two archives that differ only in hidden
material, answers the same status, content type and body.

The requests are made from the schema: path and query parameters are filled
from what the user was shown (document ids from `/api/documents`, entity ids
from name checks), so a new endpoint is asked too, and one whose parameters
the harness cannot fill fails the test instead of being skipped.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from kartoteka.service.api import create_app
from tests.access.differential import LOW, PASSWORD, build, canonical, first_difference, ids_in, make_base
from tests.access.test_differential import NAMES, SCENARIOS, WORDS

# How each parameter of the schema is filled: from a pool the world provides.
POOLS = {
    "name": "names",
    "q": "words",
    "ref": "entities",
    "a": "entities",
    "b": "entities",
    "document_id": "documents",
    "for": "audience",
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_base(tmp_path_factory.mktemp("base-api"))


def _answers(path: Path) -> str:
    with TestClient(create_app(path)) as client:
        r = client.post("/api/login", json={"user": LOW, "password": PASSWORD})
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        docs = client.get("/api/documents", params={"limit": 500}, headers=auth).json()["documents"]
        entities: list[str] = []
        for n in NAMES:
            entities += [e for e in ids_in(client.get("/api/check", params={"name": n}, headers=auth).json())]
        pools: dict[str, list[str]] = {
            "names": NAMES,
            "words": WORDS,
            "entities": list(dict.fromkeys(e for e in entities if not e.startswith("doc-"))),
            "documents": [d["id"] for d in docs],
            "audience": [LOW],
        }
        answers: list[tuple[str, Any]] = []
        schema = client.get("/openapi.json").json()
        for route, methods in sorted(schema["paths"].items()):
            if "get" not in methods:
                continue
            params = methods["get"].get("parameters", [])
            required = [p for p in params if p.get("required") and p["name"] != "authorization"]
            missing = [p["name"] for p in required if p["name"] not in POOLS]
            assert not missing, f"{route}: the harness cannot fill {missing}; add them to POOLS"
            choices = [[(p["name"], p["in"], v) for v in pools[POOLS[p["name"]]]] for p in required]
            for combo in itertools.islice(itertools.product(*choices), 60):
                url, query = route, {}
                for name, where, value in combo:
                    if where == "path":
                        url = url.replace("{" + name + "}", quote(value, safe=""))
                    else:
                        query[name] = value
                r = client.get(url, params=query, headers=auth)
                ctype = r.headers.get("content-type", "")
                body = r.json() if ctype.startswith("application/json") else r.content.decode("latin-1")
                answers.append((f"GET {route} {sorted(query.items())}", [r.status_code, ctype, body]))
        return canonical(answers, path)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_endpoint_looks_the_same_to_a_low_user(scenario: str, base: Path, tmp_path: Path) -> None:
    plain, hidden = SCENARIOS[scenario]
    a = _answers(build(base, tmp_path / "a", plain))
    b = _answers(build(base, tmp_path / "b", hidden))
    assert a == b, first_difference(a, b)
