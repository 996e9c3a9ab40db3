"""The HTML pages: sign in, list, search, create, edit, archive and delete projects."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from combine_app.projects.models import Project, ProjectAudit
from tests.conftest import PASSWORD, csrf_token_from
from tests.support.problems import assert_problem

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def page_text(response) -> str:
    """The response body as text, HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def listed_keys(response) -> set[str]:
    """The project keys linked from a project list page."""
    return set(re.findall(r'href="/projects/([A-Za-z0-9]+-\d+)"', response.get_data(as_text=True)))


def project_named(db_session, name: str) -> Project | None:
    """The project with this name, if any."""
    db_session.expire_all()
    return db_session.scalar(select(Project).where(Project.name == name))


def project_count(db_session) -> int:
    """How many projects the database holds."""
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Project))


def test_sign_in_through_the_form_shows_the_project_list(client, alice):
    page = client.get("/login", headers=BROWSER)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    token = csrf_token_from(page.get_data(as_text=True))

    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        headers=BROWSER,
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.request.path == "/projects"
    text = page_text(response)
    assert "Signed in as alice." in text
    assert "<h1>Projects</h1>" in text


def test_project_list_shows_only_own_projects(client, login, alice, make_user, make_project):
    bob = make_user("bob")
    mine = make_project(alice, "Alice Garden")
    theirs = make_project(bob, "Bob Garage")
    login(alice)
    response = client.get("/projects", headers=BROWSER)
    assert response.status_code == 200
    assert listed_keys(response) == {mine.project_id}
    assert "Bob Garage" not in page_text(response)
    assert theirs.project_id not in page_text(response)


def test_admin_project_list_shows_everyones_projects(client, login, make_user, make_project):
    admin = make_user("root", admin=True)
    bob = make_user("bob")
    theirs = make_project(bob, "Bob Garage")
    login(admin)
    assert listed_keys(client.get("/projects", headers=BROWSER)) == {theirs.project_id}


def test_create_through_the_form_redirects_to_the_new_project_page(
    client, login, alice, db_session
):
    token = login(alice)
    response = client.post(
        "/projects",
        data={"name": "Garden Shed", "description": "Build it", "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 302
    project = project_named(db_session, "Garden Shed")
    assert project is not None
    assert project.owner.username == "alice"
    assert project.description == "Build it"
    assert urlsplit(response.headers["Location"]).path == f"/projects/{project.project_id}"

    page = client.get(response.headers["Location"], headers=BROWSER)
    assert page.status_code == 200
    text = page_text(page)
    assert f"Created {project.project_id}." in text
    assert "Garden Shed" in text


def test_create_form_without_csrf_token_is_403_and_creates_nothing(
    client, login, alice, db_session
):
    login(alice)
    response = client.post("/projects", data={"name": "Forged Shed"}, headers=BROWSER)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert project_count(db_session) == 0


def test_create_form_with_a_wrong_csrf_token_is_403_and_creates_nothing(
    client, login, alice, db_session
):
    login(alice)
    response = client.post(
        "/projects", data={"name": "Forged Shed", "csrf_token": "bogus"}, headers=BROWSER
    )
    assert response.status_code == 403
    assert project_count(db_session) == 0


@pytest.mark.parametrize("name", ["", "   "])
def test_create_form_with_an_empty_name_shows_the_error_next_to_the_field(
    client, login, alice, db_session, name
):
    token = login(alice)
    response = client.post(
        "/projects",
        data={"name": name, "description": "kept text", "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    field = re.search(
        r"<input id=\"name\"[^>]*>\s*<p class=\"field-error\" id=\"name-error\"", body
    )
    assert field, "the name error does not follow the name field"
    assert 'aria-invalid="true"' in field.group(0)
    assert "kept text" in body
    assert project_count(db_session) == 0


def test_search_on_the_list_page_finds_by_name_key_and_description(
    client, login, alice, make_project
):
    rocket = make_project(alice, "Alpha Rocket")
    fuel = make_project(alice, "Beta", "needs rocket fuel")
    other = make_project(alice, "Gamma")
    login(alice)

    by_text = client.get("/projects", query_string={"search": "ROCKET"}, headers=BROWSER)
    assert by_text.status_code == 200
    assert listed_keys(by_text) == {rocket.project_id, fuel.project_id}
    assert "2 projects matching" in page_text(by_text)

    by_key = client.get("/projects", query_string={"search": other.project_id}, headers=BROWSER)
    assert listed_keys(by_key) == {other.project_id}

    none = client.get("/projects", query_string={"search": "zeppelin"}, headers=BROWSER)
    assert listed_keys(none) == set()


def test_search_with_a_nul_character_is_not_an_error(client, login, alice, make_project):
    project = make_project(alice, "Alpha Rocket")
    login(alice)
    response = client.get("/projects", query_string={"search": "Rock\x00et"}, headers=BROWSER)
    assert response.status_code == 200
    assert listed_keys(response) == {project.project_id}


def test_project_page_edit_saves_and_records_the_change(
    client, login, alice, make_project, db_session
):
    project = make_project(alice, "Old Shed")
    token = login(alice)
    response = client.post(
        f"/projects/{project.project_id}",
        data={"name": "New Shed", "description": "painted", "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/projects/{project.project_id}"

    db_session.expire_all()
    saved = db_session.get(Project, project.id)
    assert (saved.name, saved.description) == ("New Shed", "painted")
    page = page_text(client.get(f"/projects/{project.project_id}", headers=BROWSER))
    assert "New Shed" in page
    assert "Saved." in page
    actions = db_session.scalars(
        select(ProjectAudit.action).where(ProjectAudit.project_uuid == project.id)
    ).all()
    assert sorted(actions) == ["created", "updated"]


def test_project_page_edit_with_an_empty_name_is_422_and_saves_nothing(
    client, login, alice, make_project, db_session
):
    project = make_project(alice, "Keep Me")
    token = login(alice)
    response = client.post(
        f"/projects/{project.project_id}",
        data={"name": " ", "description": "", "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Project, project.id).name == "Keep Me"


def archive_form_fields(client, url: str) -> dict:
    """The hidden fields of the archive/unarchive form on a project page."""
    page = client.get(url, headers=BROWSER).get_data(as_text=True)
    form = re.search(r'<form method="post" action="[^"]+/archive">(.*?)</form>', page, re.S)
    assert form, "the project page has no archive form"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1)))


def test_project_page_archive_then_unarchive(client, login, alice, make_project, db_session):
    project = make_project(alice, "Seasonal")
    login(alice)
    url = f"/projects/{project.project_id}"

    archived = client.post(f"{url}/archive", data=archive_form_fields(client, url), headers=BROWSER)
    assert archived.status_code == 302
    db_session.expire_all()
    assert db_session.get(Project, project.id).is_archived is True
    page = page_text(client.get(url, headers=BROWSER))
    assert "Unarchive project" in page
    assert 'badge-archived">Project archived' in page
    assert listed_keys(client.get("/projects", headers=BROWSER)) == set()
    assert listed_keys(
        client.get("/projects", query_string={"include_archived": "1"}, headers=BROWSER)
    ) == {project.project_id}

    unarchived = client.post(
        f"{url}/archive", data=archive_form_fields(client, url), headers=BROWSER
    )
    assert unarchived.status_code == 302
    db_session.expire_all()
    assert db_session.get(Project, project.id).is_archived is False
    assert "Archive project" in page_text(client.get(url, headers=BROWSER))
    assert listed_keys(client.get("/projects", headers=BROWSER)) == {project.project_id}


def test_the_archive_form_submitted_twice_leaves_the_project_archived(
    client, login, alice, make_project, db_session
):
    project = make_project(alice, "Double Click")
    token = login(alice)
    url = f"/projects/{project.project_id}"
    fields = archive_form_fields(client, url)
    assert fields["csrf_token"] == token

    for _ in range(2):
        response = client.post(f"{url}/archive", data=fields, headers=BROWSER)
        assert response.status_code == 302

    db_session.expire_all()
    assert db_session.get(Project, project.id).is_archived is True
    actions = db_session.scalars(
        select(ProjectAudit.action).where(ProjectAudit.project_uuid == project.id)
    ).all()
    assert sorted(actions) == ["archived", "created"]
    assert f"Project {project.project_id} is already archived." in page_text(
        client.get(url, headers=BROWSER)
    )


def test_project_page_archive_without_csrf_is_403(client, login, alice, make_project, db_session):
    project = make_project(alice, "Seasonal")
    login(alice)
    response = client.post(f"/projects/{project.project_id}/archive", headers=BROWSER)
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(Project, project.id).is_archived is False


@pytest.mark.parametrize("typed", ["", "wrong", "{key_lower}"])
def test_delete_without_typing_the_key_keeps_the_project(
    client, login, alice, make_project, db_session, typed
):
    project = make_project(alice, "Precious")
    token = login(alice)
    response = client.post(
        f"/projects/{project.project_id}/delete",
        data={"confirm": typed.format(key_lower=project.project_id.lower()), "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == f"/projects/{project.project_id}"
    assert f"Type {project.project_id} to confirm deletion." in page_text(
        client.get(response.headers["Location"], headers=BROWSER)
    )
    db_session.expire_all()
    assert db_session.get(Project, project.id) is not None


def test_delete_after_typing_the_key_removes_the_project(
    client, login, alice, make_project, db_session
):
    project = make_project(alice, "Disposable")
    key, project_uuid = project.project_id, project.id
    token = login(alice)
    response = client.post(
        f"/projects/{key}/delete", data={"confirm": key, "csrf_token": token}, headers=BROWSER
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/projects"
    db_session.expire_all()
    assert db_session.get(Project, project_uuid) is None
    assert client.get(f"/projects/{key}", headers=BROWSER).status_code == 404
    deleted = db_session.scalar(
        select(ProjectAudit).where(
            ProjectAudit.project_uuid == project_uuid, ProjectAudit.action == "deleted"
        )
    )
    assert deleted.project_key == key


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("post", ""), ("post", "/archive"), ("post", "/delete")]
)
def test_someone_elses_project_page_is_404_html(
    client, login, alice, make_user, make_project, db_session, method, suffix
):
    bob = make_user("bob")
    theirs = make_project(bob, "Bob Secret")
    token = login(alice)
    response = getattr(client, method)(
        f"/projects/{theirs.project_id}{suffix}",
        data={"name": "Taken", "confirm": theirs.project_id, "csrf_token": token},
        headers=BROWSER,
    )
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Bob Secret" not in page_text(response)
    db_session.expire_all()
    still = db_session.get(Project, theirs.id)
    assert still.name == "Bob Secret"
    assert still.is_archived is False


def test_unknown_url_is_an_html_404_page_for_browsers(client, db_session):
    response = client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>404" in response.get_data(as_text=True)


def test_unknown_url_under_the_api_is_problem_json_even_for_browsers(client, db_session):
    response = client.get("/api/v1/no/such/thing", headers=BROWSER)
    assert_problem(response, 404)


def test_intake_form_can_start_the_project_with_a_workflow(client, alice, login, db_session):
    token = login(alice)
    response = client.post(
        "/projects",
        data={
            "name": "Field Service App",
            "description": "Scheduling for technicians",
            "workflow": "software_product_development@1.1.0",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "In sync" in page
    listing = client.get("/projects").get_data(as_text=True)
    assert "software_product_development 1.1.0" in listing


def test_intake_form_with_an_unknown_workflow_creates_nothing(client, alice, login, db_session):
    token = login(alice)
    response = client.post(
        "/projects",
        data={"name": "Ghost Project", "workflow": "no_such_flow@1.0.0", "csrf_token": token},
    )
    assert response.status_code == 422
    assert 'id="workflow-error"' in response.get_data(as_text=True)
    assert (
        "Ghost Project"
        not in client.get("/projects").get_data(as_text=True).split("<tbody>", 1)[-1]
    )
    assert db_session.scalar(select(func.count()).select_from(Project)) == 0


def test_the_favicon_is_served_to_anyone_and_every_page_links_it(client, login, alice):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    icon.close()
    login(alice)
    page = client.get("/projects").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page
