"""The server's boundary: which requests get in (Host, Origin, token) and what a request may
make the server reach (local repositories, webhook addresses) or store (valid text only)."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from claudeserver.api.app import create_app
from claudeserver.api.schemas import MessageCreate, TaskCreate
from claudeserver.api.session_schemas import SessionCreate
from claudeserver.settings import Settings
from claudeserver.token_file import TokenFileError
from tests.integration.server_process import ServerProcess, free_port
from tests.web.live import live_server

EVIL = "https://evil.example"
FORM = "application/x-www-form-urlencoded"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_worker=False)) as c:
        yield c


def _session(http: httpx.Client | TestClient, project: Path, **fields: Any) -> str:
    response = http.post("/api/v1/sessions", json={"project_path": str(project), **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _cancelled_task(http: httpx.Client | TestClient, project: Path) -> str:
    body = {"session_id": _session(http, project), "description": "x"}
    task = str(http.post("/api/v1/tasks", json=body).json()["id"])
    assert http.post(f"/api/v1/tasks/{task}/cancel").json()["status"] == "cancelled"
    return task


# --- Host: DNS rebinding ---------------------------------------------------------------


def test_a_page_that_rebinds_its_own_name_to_the_server_is_refused(
    settings: Settings, project: Path
) -> None:
    # The most exposed configuration: loopback without a token.
    with (
        live_server(create_app(settings, run_worker=False)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        port = urlsplit(url).port
        rebound = {"Host": f"rebind.example:{port}"}
        body = {"project_path": str(project)}
        forged = http.post("/api/v1/sessions", json=body, headers=rebound)
        assert forged.status_code == 403
        assert "ALLOWED_HOSTS" in forged.json()["detail"]
        assert http.get("/", headers=rebound).status_code == 403
        assert http.get("/api/v1/sessions").json() == []  # nothing was created
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LocalHost"):
            created = http.post("/api/v1/sessions", json=body, headers={"Host": host})
            assert created.status_code == 201, host


def test_public_names_are_answered_once_listed(settings: Settings) -> None:
    token = "boundary-token"
    public = settings.model_copy(
        update={
            "host": "0.0.0.0",
            "allowed_hosts": "claude.example.com",
            "auth": "token",
            "api_tokens": token,
        }
    )
    with TestClient(
        create_app(public, run_worker=False),
        base_url="http://claude.example.com",
        headers=_bearer(token),
    ) as client:
        assert client.get("/api/v1/sessions").status_code == 200
        assert client.get("/api/v1/sessions", headers={"Host": "other.example"}).status_code == 403
        # Behind a TLS proxy the browser's Origin is the public https name.
        own = {"Origin": "https://claude.example.com"}
        assert client.post("/api/v1/tasks/x/cancel", headers=own).status_code == 404
    # A server bound to one address answers to that address without a list.
    bound = public.model_copy(update={"host": "192.0.2.7", "allowed_hosts": ""})
    with TestClient(
        create_app(bound, run_worker=False),
        base_url="http://192.0.2.7:8000",
        headers=_bearer(token),
    ) as client:
        assert client.get("/api/v1/sessions").status_code == 200


def test_allowed_hosts_takes_names_not_urls() -> None:
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Settings(_env_file=None, allowed_hosts="https://claude.example.com/")  # type: ignore[call-arg]


# --- Origin: cross-site forms and WebSockets --------------------------------------------


def test_a_cross_site_form_cannot_retry_a_task(settings: Settings, project: Path) -> None:
    with (
        live_server(create_app(settings, run_worker=False)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        task = _cancelled_task(http, project)
        retry = f"/api/v1/tasks/{task}/retry"
        for origin in (EVIL, "null", "http://127.0.0.1:1", f"file://{url}"):
            forged = http.post(retry, content=b"", headers={"Origin": origin, "Content-Type": FORM})
            assert forged.status_code == 403, origin
            assert "Origin" in forged.json()["detail"]
        assert http.delete(f"/api/v1/tasks/{task}", headers={"Origin": EVIL}).status_code == 403
        assert http.get(f"/api/v1/tasks/{task}/status").json()["status"] == "cancelled"

        # The dashboard (same origin) and clients that send no Origin, such as the CLI.
        assert http.post(retry, headers={"Origin": url}).json()["status"] == "pending"
        http.post(f"/api/v1/tasks/{task}/cancel")
        assert http.post(retry).json()["status"] == "pending"


def test_a_websocket_from_another_site_is_refused(client: TestClient, project: Path) -> None:
    task = _cancelled_task(client, project)
    path = f"/api/v1/tasks/{task}/ws"
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(path, headers={"Origin": EVIL}),
    ):
        pass
    assert refused.value.code == 4403
    with client.websocket_connect(path, headers={"Origin": "http://testserver"}) as ws:
        events = iter(ws.receive_json, None)
        assert any(event["event"] == "done" for event in events)


# --- Tokens ------------------------------------------------------------------------------


def test_without_api_tokens_a_token_is_made_once_and_required(
    settings: Settings, tmp_path: Path
) -> None:
    token_file = tmp_path / "data" / "token"
    secured = settings.model_copy(update={"auth": "token", "token_file": token_file})
    with TestClient(create_app(secured, run_worker=False)) as client:
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32
        assert client.get("/api/v1/sessions").status_code == 401
        assert client.get("/api/v1/sessions", headers=_bearer(token)).status_code == 200
        assert client.get("/health").status_code == 200  # and the dashboard's shell:
        assert client.get("/").status_code == 200
    create_app(secured, run_worker=False)  # a later start keeps the token
    assert token_file.read_text().strip() == token


def test_auth_is_on_by_default_and_off_only_on_loopback() -> None:
    assert Settings(_env_file=None).auth == "token"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="AUTH=none is allowed only with a loopback HOST"):
        Settings(_env_file=None, auth="none", host="0.0.0.0")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="contradict"):
        Settings(_env_file=None, auth="none", api_tokens="t")  # type: ignore[call-arg]


def test_a_token_file_others_can_read_is_not_used(settings: Settings, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("leaked-token-value\n")
    token_file.chmod(0o644)
    secured = settings.model_copy(update={"auth": "token", "token_file": token_file})
    with pytest.raises(TokenFileError, match="chmod 600"):
        create_app(secured, run_worker=False)


def test_access_token_in_the_query_opens_event_streams_only(settings: Settings) -> None:
    token = "stream-token"
    secured = settings.model_copy(update={"auth": "token", "api_tokens": token})
    query = {"access_token": token}
    with (
        live_server(create_app(secured, run_worker=False)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        assert http.get("/api/v1/sessions", params=query).status_code == 401
        assert http.get("/metrics", params=query).status_code == 401
        with http.stream("GET", "/api/v1/events", params=query) as events:
            assert events.status_code == 200
        assert http.get("/api/v1/tasks/nope/events", params=query).status_code == 404
    with TestClient(create_app(secured, run_worker=False)) as client:
        for ws_query, code in ((f"?access_token={token}", 4404), ("", 4401)):
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect(f"/api/v1/tasks/nope/ws{ws_query}") as ws,
            ):
                ws.receive_json()
            assert closed.value.code == code


def test_serve_prints_a_login_url_and_keeps_tokens_out_of_its_log(tmp_path: Path) -> None:
    token_file = tmp_path / "secrets" / "token"
    log = tmp_path / "server.log"
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
        "WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "TOKEN_FILE": str(token_file),
        "AUTH": "token",
        "API_TOKENS": "",
        "LOG_LEVEL": "info",  # uvicorn's access log on
    }
    server = ServerProcess(env, log).start()
    try:
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert f"http://127.0.0.1:{server.port}/?token={token}" in log.read_text()
        assert httpx.get(f"{server.url}/", params={"token": token}).status_code == 200
        query = {"access_token": token}
        with httpx.stream("GET", f"{server.url}/api/v1/events", params=query) as events:
            assert events.status_code == 200
        sessions = httpx.get(f"{server.url}/api/v1/sessions", headers=_bearer(token))
        assert sessions.status_code == 200
    finally:
        server.stop()
    output = log.read_text()
    assert output.count(token) == 1, output  # the login URL, and nothing else
    assert "/?token=[REDACTED]" in output
    assert "/api/v1/events?access_token=[REDACTED]" in output


# --- What a request may name ------------------------------------------------------------


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(path)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "init"], check=True)
    return path


def test_a_local_repo_url_must_lie_in_the_allowed_roots(settings: Settings, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    inside = _git_repo(allowed / "repo")
    outside = _git_repo(tmp_path / "elsewhere")
    (allowed / "link").symlink_to(outside)
    settings.allowed_project_roots = str(allowed)
    with TestClient(create_app(settings, run_worker=False)) as client:
        for url in (
            str(outside),
            f"file://{outside}",
            "file://" + quote(str(outside), safe=""),  # git decodes %2F
            f"file://{allowed}/../elsewhere",
            str(allowed / "link"),
        ):
            response = client.post("/api/v1/sessions", json={"repo_url": url})
            assert response.status_code == 403, url
            assert "ALLOWED_PROJECT_ROOTS" in response.json()["detail"]
        relative = client.post("/api/v1/sessions", json={"repo_url": "file://elsewhere"})
        assert relative.status_code == 422
        created = client.post("/api/v1/sessions", json={"repo_url": f"file://{inside}"})
        assert created.status_code == 201, created.text


@pytest.fixture
def hangs_up() -> Iterator[int]:
    """A port that accepts connections and closes them at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                listener.accept()[0].close()
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    listener.close()


def test_a_failed_clone_does_not_say_what_the_network_answered(
    client: TestClient, hangs_up: int
) -> None:
    refused = f"http://127.0.0.1:{free_port()}/x.git"
    empty = f"http://127.0.0.1:{hangs_up}/x.git"
    messages = []
    for url in (refused, empty):
        response = client.post("/api/v1/sessions", json={"repo_url": url})
        assert response.status_code == 422
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "repo_url"]
        assert error["msg"].startswith(f"could not clone {url}: ")
        messages.append(error["msg"].replace(url, "URL"))
    assert messages[0] == messages[1]  # refused and hung up look the same from outside


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",  # 169.254.169.254 as one number
        "http://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
def test_webhooks_to_link_local_and_metadata_addresses_are_refused(
    client: TestClient, project: Path, url: str
) -> None:
    response = client.post(
        "/api/v1/sessions", json={"project_path": str(project), "webhook_url": url}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "webhook_url"]
    task = {"session_id": _session(client, project), "description": "x", "webhook_url": url}
    assert client.post("/api/v1/tasks", json=task).status_code == 422


def test_webhooks_to_ordinary_addresses_are_kept(client: TestClient, project: Path) -> None:
    for url in ("http://127.0.0.1:9/hook", "https://hooks.example.com/claude"):
        _session(client, project, webhook_url=url)


# --- Text that is not Unicode ------------------------------------------------------------

LONE_SURROGATE = "\ud800"


def _text_fields(model: type[Any]) -> list[str]:
    """Every field of a request body that takes text (or JSON holding text)."""
    return [
        name
        for name, field in model.model_fields.items()
        if "str" in repr(field.annotation) or "dict" in repr(field.annotation)
    ]


def _post_raw(client: TestClient, path: str, body: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes the surrogate as \ud800, as a browser or any JSON encoder may.
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def test_a_lone_surrogate_in_any_text_field_is_422_naming_it(
    settings: Settings, project: Path
) -> None:
    app = create_app(settings, run_worker=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        session = _session(client, project)
        task = client.post("/api/v1/tasks", json={"session_id": session, "description": "x"})
        task_id = task.json()["id"]
        cases: list[tuple[str, dict[str, Any], str]] = []
        for field in _text_fields(SessionCreate):
            value: Any = {"allow_rules": [LONE_SURROGATE]} if field == "policy" else LONE_SURROGATE
            base = {} if field in ("project_path", "repo_url") else {"project_path": str(project)}
            cases.append(("/api/v1/sessions", {**base, field: value}, field))
        for field in _text_fields(TaskCreate):
            cases.append(
                (
                    "/api/v1/tasks",
                    {"session_id": session, "description": "x", field: LONE_SURROGATE},
                    field,
                )
            )
        for path in ("messages", "follow-up"):
            for field in _text_fields(MessageCreate):
                cases.append((f"/api/v1/tasks/{task_id}/{path}", {field: LONE_SURROGATE}, field))
        assert {"description", "test_command", "policy", "content"} <= {c[2] for c in cases}
        for path, body, field in cases:
            response = _post_raw(client, path, body)
            assert response.status_code == 422, (path, field, response.text)
            (error,) = response.json()["detail"]
            assert error["loc"] == ["body", field], (path, error)
            assert "surrogate" in error["msg"]
