"""Policies checked over every route of the app (DESIGN.md §2 rule 5): walk `app.url_map`."""

from __future__ import annotations

import re

import pytest

from wallet.app.security import is_public_endpoint

PUBLIC_BLUEPRINTS = {"public", "auth", "host_oauth", "host_badgr", "host_bc"}

# The ONLY routes without CSRF: machine APIs that partner systems call with their own credentials
# (app password, HTTP Basic, Bearer token) and never with the session cookie (wallet/views/host_*.py).
# The learner's consent form (host_consent.authorize) is NOT among them.
CSRF_EXEMPT = {
    "host_oauth.token",          # app-password login, code and refresh exchanges (form + Basic)
    "host_oauth.register",       # RFC 7591 registration (JSON)
    "host_oauth.revoke",         # RFC 7009 revocation (HTTP Basic)
    "host_badgr.import_badge",   # Badgr v2 push (Bearer)
    "host_badgr.issuing_refused",  # Badgr v2 issuer calls, refused in the envelope (Bearer)
    "host_bc.post_assertion",    # Badge Connect push (Bearer)
}


def _sample_path(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        if converter.__class__.__name__ == "IntegerConverter":
            values[arg] = 1
        elif converter.__class__.__name__ == "AnyConverter":
            values[arg] = min(converter.items) if hasattr(converter, "items") else "x"
        else:
            values[arg] = "x"
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + arg + r"(?:\([^)]*\))?>", str(value), path)
    return re.sub(r"<[^>]+>", "x", path)


def _routes(app, method):
    return [rule for rule in app.url_map.iter_rules() if method in rule.methods and rule.endpoint != "static"]


def test_every_post_route_refuses_a_missing_csrf_token(app):
    client = app.test_client()
    rules = [rule for rule in _routes(app, "POST") if rule.endpoint not in CSRF_EXEMPT]
    assert len(rules) >= 10 and "host_consent.authorize" in {rule.endpoint for rule in rules}
    for rule in rules:
        response = client.post(_sample_path(rule), data={"anything": "1"})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without a CSRF token"
        assert "Formulaire expiré" in response.get_data(as_text=True), rule.rule


def test_only_the_listed_machine_apis_are_csrf_exempt_and_they_refuse_anonymous_posts(app):
    from wallet.app.extensions import csrf

    views = {f"{view.__module__}.{view.__name__}": endpoint for endpoint, view in app.view_functions.items()}
    exempt = {views[name] for name in csrf._exempt_views if name in views}
    assert exempt == CSRF_EXEMPT
    assert not {bp for bp in csrf._exempt_blueprints}
    client = app.test_client()
    for rule in _routes(app, "POST"):
        if rule.endpoint in CSRF_EXEMPT:
            response = client.post(_sample_path(rule), data={"anything": "1"})
            assert 400 <= response.status_code < 500, rule.rule
            assert response.is_json and "Formulaire" not in response.get_data(as_text=True), rule.rule


def test_every_private_route_requires_login(app):
    client = app.test_client()
    private = [rule for rule in _routes(app, "GET") if not is_public_endpoint(rule.endpoint)]
    assert len(private) >= 3
    for rule in private:
        response = client.get(_sample_path(rule))
        assert response.status_code == 302, f"{rule.rule} answered {response.status_code} without login"
        assert "/connexion" in response.headers["Location"], rule.rule


def test_only_the_public_blueprints_are_public(app):
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else None
        if is_public_endpoint(rule.endpoint):
            assert blueprint in PUBLIC_BLUEPRINTS or rule.endpoint == "static", rule.endpoint


@pytest.mark.parametrize("path", ["/", "/connexion", "/healthz", "/nope-404", "/cgu"])
def test_security_headers_on_public_pages_and_errors(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
                      "script-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_state_changing_routes_are_not_reachable_by_get(app):
    client = app.test_client()
    assert client.get("/deconnexion").status_code == 405
    assert client.get("/compte/adresses").status_code in (302, 405)


def test_no_template_uses_inline_script_or_style(app):
    from pathlib import Path

    templates = Path(app.root_path) / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and " onclick=" not in text and "style=" not in text, template
