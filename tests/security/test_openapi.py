"""schemathesis against the real app with ``docs/console-api.openapi.yaml``: generated
requests (valid and not) to every operation the README's HTTP API lists; no answer may be
a 500, and every answer's status, content type and body must be the documented ones."""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PASSWORDS, make_app, sample_orders
from tests.e2e.live import serving

SPEC = Path(__file__).resolve().parents[2] / "docs" / "console-api.openapi.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("openapi"))
    with app.app_context():
        from console.people import issue_token, save_user
        from console.store import get_store
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
        get_store().load(sample_orders(30, seed=9))
        app.config["OPENAPI_TOKEN"] = issue_token("admin", "schemathesis")
    with serving(app) as url:  # real HTTP on a loopback port
        app.config["OPENAPI_URL"] = url
        yield app
    with app.app_context():
        from console.store import get_store
        get_store().close()


# loaded at import so each operation is its own test
schema = schemathesis.openapi.from_path(SPEC)


def test_the_description_covers_the_readme_api():
    text = SPEC.read_text(encoding="utf-8")
    readme = (SPEC.parents[1] / "README.md").read_text(encoding="utf-8")
    api = readme[readme.index("## HTTP API"):readme.index("Screens:")]
    for path in ("/api/orders/search", "/api/orders/{order_no}/reveal", "/refund", "/reissue",
                 "/cancel", "/api/edit-requests", "/api/actions/{action_id}/approve",
                 "/api/audit.csv", "/healthz"):
        assert path in text, path
        assert path.split("{")[0].rstrip("/").rsplit("/", 1)[-1] in api, path


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_the_api_conforms_and_never_fails(case, api_app):
    case.call_and_validate(base_url=api_app.config["OPENAPI_URL"], headers={"Authorization": f"Bearer {api_app.config['OPENAPI_TOKEN']}"},
                           checks=CHECKS)
