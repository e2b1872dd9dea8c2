"""The pages' safety rules, without a browser."""

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.web.pages import local_path
from core.settings import Settings


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/tasks", "/tasks"),
        ("/practice/referrals?status=closed", "/practice/referrals?status=closed"),
        ("https://example.com/tasks", "/"),
        ("//example.com/tasks", "/"),
        ("/\\example.com", "/"),
        ("tasks", "/"),
        ("javascript:alert(1)", "/"),
        ("/tasks\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_a_path_on_this_site_is_returned_to(candidate: str | None, expected: str) -> None:
    assert local_path(candidate) == expected


@pytest.fixture
def client(settings: Settings, engine: object) -> TestClient:
    # Secure cookies go back over http://localhost, as in a browser.
    return TestClient(create_app(settings, temporal=None), base_url="https://localhost")


def _token_in(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_sign_in_token_belongs_to_the_browser_it_was_given_to(
    client: TestClient, settings: Settings
) -> None:
    page = client.get("/sign-in")
    token = _token_in(page.text)
    assert page.cookies.get("socialrx_sign_in")
    form = {"username": "nobody", "password": "wrong password", "csrf_token": token}
    # With its cookie: checked, and refused only for the wrong password.
    assert client.post("/sign-in", data=form).status_code == 401
    # Another browser (another cookie) cannot use it, nor one without the cookie.
    other = TestClient(create_app(settings, temporal=None), base_url="https://localhost")
    other.get("/sign-in")
    assert other.post("/sign-in", data=form).status_code == 403
    client.cookies.clear()
    assert client.post("/sign-in", data=form).status_code == 403


def test_pages_are_never_framed_cached_or_sniffed(client: TestClient) -> None:
    headers = client.get("/sign-in").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


def test_a_signed_out_visit_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/tasks?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Ftasks%3Fpage%3D2"
    # The form carries the path back, and only a path of this site.
    assert 'name="next" value="/tasks?page=2"' in client.get(response.headers["location"]).text
    assert 'name="next" value=""' in client.get("/sign-in?next=https://example.com").text


def test_every_task_kind_has_words() -> None:
    from api.web.words import TASK_KIND
    from domain.enums import TaskKind

    assert set(TASK_KIND) == set(TaskKind), "a task kind would show as a bare code"
