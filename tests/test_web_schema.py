"""schemathesis against the app's /openapi.json: every API endpoint and feed with generated
parameters (valid and not), no 5xx, and answers of the declared media types. Bounded: 50
examples an endpoint."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from hotpapers.config import Settings
from hotpapers.web.app import create_app
from web_support import NOW, fresh_url, load_demo

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("web-schema"), "schema") as url:
        load_demo(url)
        made = create_app(url, Settings(), now=lambda: NOW)
        yield made
        made.state.reader.engine.dispose()


def test_no_endpoint_fails_on_any_parameters(web_app):
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_asgi("/openapi.json", web_app)
    operations = [found.ok() for found in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/rankings", "/feed.atom",
                                               "/api/v1/explain/{paper_id}"}
    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=50, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def one(case):
            case.call_and_validate(checks=[not_a_server_error, content_type_conformance,
                                           status_code_conformance])

        one()
