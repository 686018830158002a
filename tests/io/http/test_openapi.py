"""/api/openapi.json: generated from the code's models, every operation a
real route, and schemathesis against a live server (a bounded number of
examples per operation): no 5xx, every answer as the document says."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.io.app import create_app
from server.io.http import openapi, routes
from tests.services import LaunchdayProcess
from tests.utils import ADMIN, H

EXAMPLES = int(os.environ.get("LAUNCHDAY_SCHEMATHESIS_EXAMPLES", "8"))


async def test_the_document_is_openapi_3_1_and_names_only_real_routes(tmp_path: Path) -> None:
    doc = openapi.build(routes.role_for)
    assert doc["openapi"] == "3.1.0"
    app = create_app(tmp_path, token=ADMIN)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            # A concrete path (each parameter given a value it allows) must
            # resolve to a route of the app for that method.
            values = {p["name"]: (p["schema"].get("enum") or ["x"])[0]
                      for p in op.get("parameters", []) if p["in"] == "path"}
            concrete = re.sub(r"{(\w+)}", lambda m, v=values: v[m.group(1)], path)
            match = await app.router.resolve(make_mocked_request(method.upper(), concrete))
            assert match.http_exception is None, f"{method.upper()} {path} is documented but not routed"
    # The schemas are the models' own (pydantic), not written here.
    assert doc["components"]["schemas"]["PointView"] == openapi.PointView.model_json_schema(
        ref_template="#/components/schemas/{model}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``launchday serve`` in a subprocess with one event of a few points."""
    server = LaunchdayProcess(tmp_path_factory.mktemp("openapi") / "data").start()
    base = server.url
    try:
        ev = requests.post(base + "/api/events", headers=H, timeout=5, json={
            "name": "Lễ phát động", "starts_at": "2025-05-08T08:00:00+07:00",
            "report_deadline": "2025-05-08T07:30:00+07:00"}).json()
        requests.post(f"{base}/api/events/{ev['id']}/points/import", headers={**H, "Content-Type": "text/csv"},
                      data="code,name,level,parent\nTH,Tỉnh,province,\nD1,Huyện,district,TH\n".encode(), timeout=5)
        yield base
    finally:
        server.kill()
        log = server.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]


SCHEMA = schemathesis.openapi.from_dict(openapi.build(routes.role_for))
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_answer_matches_the_document(label: str, live: str) -> None:
    op = OPERATIONS[label]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(base_url=live, headers=H, timeout=10)
        case.validate_response(response, checks=CHECKS)

    run()
