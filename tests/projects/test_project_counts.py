"""The project list's kept totals: exact after every change of who sees what, on both engines."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import flask_migrate
import pytest
from sqlalchemy import case, func, select

from combine_app.auth import service as auth_service
from combine_app.database import transaction
from combine_app.extensions import db
from combine_app.projects import members
from combine_app.projects import service as project_service
from combine_app.projects.models import (
    Project,
    ProjectCount,
    ProjectMember,
    ProjectTotal,
)
from tests.conftest import PASSWORD, make_app
from tests.support.databases import create_database, drop_database

BROWSER = {"Accept": "text/html"}
EVERYONE = "everyone"  # the key of project_totals in the dictionaries below


def fresh_counts(session) -> dict:
    """(visible, visible_not_archived) counted afresh: per user with a membership, and of every
    project under EVERYONE."""
    session.expire_all()
    not_archived = func.sum(case((Project.archived_at.is_(None), 1), else_=0))
    per_user = session.execute(
        select(ProjectMember.user_id, func.count(), not_archived)
        .join(Project, Project.id == ProjectMember.project_id)
        .group_by(ProjectMember.user_id)
    ).all()
    everyone = session.execute(select(func.count(), not_archived).select_from(Project)).one()
    counted = {user_id: (visible, unarchived) for user_id, visible, unarchived in per_user}
    counted[EVERYONE] = (everyone[0], everyone[1] or 0)
    return counted


def kept_counts(session) -> dict:
    """The kept rows in the same shape; a user's row of zeros (they left everything) is left out,
    as a fresh count has no row for them."""
    kept = {
        row.user_id: (row.visible, row.visible_not_archived)
        for row in session.scalars(select(ProjectCount))
        if (row.visible, row.visible_not_archived) != (0, 0)
    }
    (totals,) = session.scalars(select(ProjectTotal)).all()
    kept[EVERYONE] = (totals.visible, totals.visible_not_archived)
    return kept


def assert_exact(session, after: str) -> None:
    """The kept counts are what counting them afresh gives."""
    assert kept_counts(session) == fresh_counts(session), after


def totals(client) -> tuple[int, int]:
    """The caller's list total without and with archived projects, as the API answers them."""
    return (
        client.get("/projects").get_json()["total"],
        client.get("/projects?include_archived=true").get_json()["total"],
    )


@pytest.fixture
def people(api, api_for, alice, make_user):
    """API clients of alice, bob, carol and an administrator (root)."""
    return {
        "alice": api,
        "bob": api_for(make_user("bob")),
        "carol": api_for(make_user("carol")),
        "root": api_for(make_user("root", admin=True)),
    }


def test_each_change_of_who_sees_what_keeps_every_count_exact(people, db_session):
    alice, bob, carol, root = (people[name] for name in ("alice", "bob", "carol", "root"))
    assert_exact(db_session, "before anything")

    steps = [
        ("create", lambda: alice.post("/projects", json={"name": "Shared Work"}), 201),
        ("create", lambda: alice.post("/projects", json={"name": "Own Work"}), 201),
        ("create", lambda: bob.post("/projects", json={"name": "Bob Work"}), 201),
        (
            "create from intake",
            lambda: carol.post(
                "/projects/from-intake", json={"intake_document": {"project_name": "Intake"}}
            ),
            201,
        ),
        (
            "add bob",
            lambda: alice.put("/projects/SW-001/members/bob", json={"role": "viewer"}),
            201,
        ),
        (
            "change bob's role",
            lambda: alice.put("/projects/SW-001/members/bob", json={"role": "editor"}),
            200,
        ),
        ("archive", lambda: alice.post("/projects/SW-001/archive"), 200),
        (
            "add carol to an archived project",
            lambda: alice.put("/projects/SW-001/members/carol", json={"role": "owner"}),
            201,
        ),
        ("archive again (refused)", lambda: alice.post("/projects/SW-001/archive"), 409),
        ("unarchive", lambda: carol.post("/projects/SW-001/unarchive"), 200),
        ("remove carol", lambda: alice.delete("/projects/SW-001/members/carol"), 204),
        ("bob leaves", lambda: bob.delete("/projects/SW-001/members/bob"), 204),
        (
            "add bob again",
            lambda: alice.put("/projects/SW-001/members/bob", json={"role": "owner"}),
            201,
        ),
        ("archive before deleting", lambda: alice.post("/projects/OW-001/archive"), 200),
        ("delete an archived project", lambda: alice.delete("/projects/OW-001"), 204),
        ("delete a shared project", lambda: bob.delete("/projects/SW-001"), 204),
    ]
    for name, call, status in steps:
        response = call()
        assert response.status_code == status, (name, response.get_json())
        assert_exact(db_session, f"after {name}")

    assert totals(alice) == (0, 0)
    assert totals(bob) == (1, 1)
    assert totals(carol) == (1, 1)
    assert totals(root) == (2, 2)


def test_the_list_total_splits_archived_projects_for_members_and_administrators(people):
    alice, bob, root = people["alice"], people["bob"], people["root"]
    for name in ("Alpha One", "Beta Two", "Gamma Three"):
        assert alice.post("/projects", json={"name": name}).status_code == 201
    assert alice.put("/projects/BT-001/members/bob", json={"role": "viewer"}).status_code == 201
    assert alice.post("/projects/BT-001/archive").status_code == 200

    assert totals(alice) == (2, 3)
    assert totals(bob) == (0, 1)
    assert totals(root) == (2, 3)
    # A page past the end still says the total.
    assert alice.get("/projects?offset=50").get_json()["total"] == 2
    assert alice.get("/projects?limit=1").get_json()["total"] == 2


def test_the_pages_doors_keep_the_counts_exact(
    client, login, alice, make_user, make_project, db_session
):
    project = make_project(alice, "Page Work")
    bob = make_user("bob")
    token = login(alice)
    url = f"/projects/{project.project_id}"

    def post(path: str, **fields):
        response = client.post(path, data={"csrf_token": token, **fields}, headers=BROWSER)
        assert response.status_code == 302, response.get_data(as_text=True)

    post(f"{url}/members", username="bob", role="viewer", adding="1")
    assert_exact(db_session, "after a member added from the page")
    post(f"{url}/archive", action="archive")
    assert_exact(db_session, "after archiving from the page")
    post(f"{url}/archive", action="archive")  # a second click: refused, nothing moves
    assert_exact(db_session, "after a second archive from the page")
    post(f"{url}/archive", action="unarchive")
    assert_exact(db_session, "after unarchiving from the page")
    post(f"{url}/members/bob/remove")
    assert_exact(db_session, "after a member removed from the page")
    post(f"{url}/delete", confirm=project.project_id)
    assert_exact(db_session, "after deleting from the page")
    assert db_session.get(ProjectCount, bob.id).visible == 0


def test_the_list_page_shows_the_kept_total(client, login, alice, make_project, db_session):
    for number in range(3):
        make_project(alice, f"Listed {number}")
    archived = make_project(alice, "Put Away")
    project_service.archive_project(archived, alice)
    db_session.commit()
    login(alice)
    assert "3 projects." in client.get("/projects", headers=BROWSER).get_data(as_text=True)
    everything = client.get("/projects?include_archived=1", headers=BROWSER)
    assert "4 projects." in everything.get_data(as_text=True)
    past_the_end = client.get("/projects?page=9", headers=BROWSER)
    assert "3 projects." in past_the_end.get_data(as_text=True)


def _counts_projects(statements: list[str]) -> list[str]:
    """The statements that count projects (the kept totals are read, not counted)."""
    return [
        statement
        for statement in statements
        if re.search(r"count\(", statement, re.I) and re.search(r"\bprojects\b", statement)
    ]


def test_the_unfiltered_list_counts_nothing_and_a_search_counts_what_it_matches(
    api, alice, make_project, count_queries
):
    for number in range(5):
        make_project(alice, f"Counted {number}")
    for query in ("limit=2", "limit=2&include_archived=true", "offset=10"):
        with count_queries() as statements:
            assert api.get(f"/projects?{query}").get_json()["total"] == 5
        assert statements, query
        assert _counts_projects(statements) == [], query
    with count_queries() as statements:
        assert api.get("/projects?limit=2&search=counted").get_json()["total"] == 5
    assert len(_counts_projects(statements)) == 1


def test_the_unfiltered_list_page_counts_nothing(client, login, alice, make_project, count_queries):
    for number in range(30):
        make_project(alice, f"Paged {number}")
    login(alice)
    with count_queries() as statements:
        assert "30 projects." in client.get("/projects", headers=BROWSER).get_data(as_text=True)
    assert _counts_projects(statements) == []
    with count_queries() as statements:
        searched = client.get("/projects?search=paged", headers=BROWSER)
        assert "30 projects matching" in searched.get_data(as_text=True)
    assert _counts_projects(statements) != []


# --- concurrent writers (PostgreSQL: each thread its own session and connection) ------------

THREADS = 8


@pytest.fixture
def committed_app(postgres_admin_url):
    """An app on a fresh, migrated PostgreSQL database whose writes commit for real."""
    url = create_database(postgres_admin_url, prefix="combine_counts")
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        with transaction():
            for number in range(THREADS):
                auth_service.create_user(f"writer{number}", PASSWORD)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(postgres_admin_url, url)


def all_at_once(app, work: list) -> list:
    """Run each ``work(number)`` in its own thread and app context (so its own session), all
    released by one barrier; the first exception is raised."""
    barrier = threading.Barrier(len(work))

    def run(job):
        with app.app_context():
            barrier.wait(timeout=60)
            return job()

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(run, work))


def _user(number: int):
    return auth_service.find_user(f"writer{number}")


def test_concurrent_creates_by_one_user_and_by_many_keep_the_counts_exact(committed_app):
    def create(owner: int, number: int):
        def job():
            for project in range(3):
                with transaction():
                    # Distinct initials: the keys do not collide, every create is one attempt.
                    name = f"{chr(65 + number)} {chr(65 + project)} Work"
                    project_service.create_project(_user(owner), name)

        return job

    all_at_once(committed_app, [create(0, number) for number in range(THREADS)])
    all_at_once(committed_app, [create(number, number) for number in range(THREADS)])
    with committed_app.app_context():
        assert_exact(db.session, "after concurrent creates")
        assert kept_counts(db.session)[_user(0).id] == (THREADS * 3 + 3, THREADS * 3 + 3)
        assert kept_counts(db.session)[EVERYONE] == (THREADS * 6, THREADS * 6)


def test_archiving_while_members_come_and_go_keeps_the_counts_exact(committed_app):
    with committed_app.app_context(), transaction():
        key = project_service.create_project(_user(0), "Busy Project").project_id

    def as_owner(change):
        def job():
            with transaction():
                owner = _user(0)
                # Read unlocked, as the pages do: the service locks the row itself.
                change(project_service.get_project(owner, key), owner)

        return job

    def toggle(project, owner):
        if project.is_archived:
            project_service.unarchive_project(project, owner)
        else:
            project_service.archive_project(project, owner)

    def join(number: int):
        def change(project, owner):
            username = f"writer{number}"
            if any(member.username == username for member in members.members_of(project)):
                members.remove_member(project, owner, username)
            else:
                members.set_member(project, owner, username, "viewer")

        return change

    for _ in range(4):
        work = [as_owner(toggle)] + [as_owner(join(number)) for number in range(1, THREADS)]
        all_at_once(committed_app, work)
        with committed_app.app_context():
            assert_exact(db.session, "after archive and membership changes at once")
