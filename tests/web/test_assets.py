"""The dashboard's files as the server hands them out (no browser needed)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from claudeserver import web

client = TestClient(FastAPI(routes=web.router.routes))


def test_the_page_and_its_assets_are_served_with_a_strict_policy() -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js">' in page.text
    for name, kind in [("app.js", "text/javascript"), ("style.css", "text/css")]:
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)


def test_only_the_dashboards_own_files_are_served() -> None:
    for path in ["/static/missing.js", "/static/__init__.py", "/static/..%2F__init__.py",
                 "/static/../__init__.py", "/static/.hidden.js"]:  # fmt: skip
        assert client.get(path).status_code == 404, path


def test_scripts_never_parse_strings_as_markup() -> None:
    for script in web.STATIC.glob("*.js"):
        text = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in text, f"{script.name} uses {sink}"
