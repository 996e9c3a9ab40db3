"""Replay property through the API: random edit series, every revision read back, restore, compare.

Derandomized and bounded. Checkpoints are kept every 3 revisions here (instead of 50) so that
the short series cross several of them: reads start from a checkpoint and from the base alike.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from combine_app.workflows import revisions as revisions_module
from combine_app.workflows.compare import diff_of_comparison
from combine_app.workflows.diff import replay

from .instance_support import SPD, all_step_ids, source

PROPERTY = settings(
    derandomize=True,
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(alphabet="abc xyz-", max_size=6)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.5, 2.5, 1.0]) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=2),
    max_leaves=4,
)
# Not produces or scope: a random value there is an error the service refuses (issue 17's
# rules); the replay is what this property is about.
STEP_FIELDS = ["name", "role", "task_prompt", "notes", "optional", "estimate"]
EDITS = ["field", "drop_field", "add", "remove", "move", "metadata"]


def canonical(definition: dict) -> str:
    """The canonical JSON text of a definition."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def step_lists(definition: dict) -> list[list[dict]]:
    """Every list of steps in the definition: the top level and each non-empty nested one."""
    found, pending = [], [definition["steps"]]
    while pending:
        steps = pending.pop()
        found.append(steps)
        pending.extend(step["steps"] for step in steps if step.get("steps"))
    return found


def all_steps(definition: dict) -> list[dict]:
    """Every step, nested ones included."""
    return [step for steps in step_lists(definition) for step in steps]


def edit(definition: dict, kind: str, draw: st.DrawFn, serial: int) -> None:
    """Apply one random edit of ``kind`` to the definition, in place."""
    steps = all_steps(definition)
    if kind == "metadata":
        definition["description"] = draw(TEXT)
        return
    if kind == "add" or not steps:
        target = draw(st.sampled_from(step_lists(definition)))
        step = {"step_id": f"added_{serial}", "name": draw(TEXT) or "x", "role": draw(TEXT)}
        target.insert(draw(st.integers(0, len(target))), step)
        return
    step = draw(st.sampled_from(steps))
    if kind == "field":
        step[draw(st.sampled_from(STEP_FIELDS))] = draw(VALUES)
    elif kind == "drop_field":
        droppable = [name for name in step if name not in ("step_id", "steps")]
        if droppable:
            del step[draw(st.sampled_from(droppable))]
    elif kind == "remove":
        holder = next(steps for steps in step_lists(definition) if step in steps)
        holder.remove(step)  # an emptied nested list stays, as a plain field of its step
    elif kind == "move":
        holder = next(steps for steps in step_lists(definition) if step in steps)
        holder.remove(step)
        inside = {id(steps) for steps in step_lists({"steps": [step]})}
        targets = [steps for steps in step_lists(definition) if id(steps) not in inside]
        target = draw(st.sampled_from(targets))
        target.insert(draw(st.integers(0, len(target))), step)


@st.composite
def edit_series(draw: st.DrawFn) -> list[dict]:
    """Two to six saves of one to three random edits each, starting from the SPD release."""
    current = source()
    series = []
    serial = itertools.count()
    for _ in range(draw(st.integers(2, 6))):
        following = copy.deepcopy(current)
        for _ in range(draw(st.integers(1, 3))):
            edit(following, draw(st.sampled_from(EDITS)), draw, next(serial))
        series.append(following)
        current = following
    return series


@pytest.fixture
def small_checkpoints(monkeypatch):
    """Checkpoints every 3 revisions."""
    monkeypatch.setattr(revisions_module, "CHECKPOINT_EVERY", 3)


@PROPERTY
@given(series=edit_series(), data=st.data())
def test_every_revision_reads_back_restores_and_compares(
    api, make_project, alice, small_checkpoints, series, data
):
    key = make_project(alice).project_id
    created = api.post(
        f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"}
    ).get_json()
    returned: dict[int, dict[str, Any]] = {1: created["effective_workflow"]}
    for number, definition in enumerate(series):
        response = api.put(
            f"/projects/{key}/workflow",
            json={"effective_workflow": definition, "reason": f"save {number}"},
        )
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        returned[body["revision"]] = body["effective_workflow"]  # an unchanged save keeps it

    def read(number: int) -> dict:
        response = api.get(f"/projects/{key}/workflow/revisions/{number}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["definition"]

    for number, body in returned.items():
        assert canonical(read(number)) == canonical(body)

    latest = max(returned)
    a = data.draw(st.integers(1, latest), label="from")
    b = data.draw(st.integers(1, latest), label="to")
    compared = api.get(f"/projects/{key}/workflow/compare?from={a}&to={b}").get_json()
    assert canonical(replay(returned[a], diff_of_comparison(compared))) == canonical(returned[b])

    target = data.draw(st.integers(1, latest), label="restore")
    response = api.post(
        f"/projects/{key}/workflow/restore", json={"revision": target, "reason": "undo"}
    )
    assert response.status_code == 200, response.get_json()
    now = api.get(f"/projects/{key}/workflow").get_json()
    assert canonical(now["effective_workflow"]) == canonical(returned[target])
    assert canonical(read(now["revision"])) == canonical(returned[target])
    for number, body in returned.items():  # the history before the restore reads the same
        assert canonical(read(number)) == canonical(body)
    assert set(all_step_ids(now["effective_workflow"])) == set(all_step_ids(returned[target]))
