"""Shared pieces of the deviation request tests: a drifted workflow and the routes' calls."""

from __future__ import annotations

from urllib.parse import quote

from .instance_support import SPD, with_step_field

PROMPT_KEY = "step_modified:product_discovery:task_prompt"


def workflow_url(key: str) -> str:
    """The API path of a project's workflow."""
    return f"/projects/{key}/workflow"


def deviations_url(key: str, item_key: str | None = None, action: str | None = None) -> str:
    """The API path of the deviations, of one key, or of one key's decision."""
    path = f"{workflow_url(key)}/deviations"
    if item_key is not None:
        path += "/" + quote(item_key, safe=":")
    return path + (f"/{action}" if action else "")


def assign(api, key: str) -> None:
    """SPD 1.1.0 assigned to the project (revision 1)."""
    response = api.post(workflow_url(key), json={"workflow_id": SPD, "version": "1.1.0"})
    assert response.status_code == 201, response.get_json()


def edit(api, key: str, prompt: str, step_id: str = "product_discovery") -> None:
    """Save a new task prompt of one step (one revision)."""
    current = api.get(workflow_url(key)).get_json()["effective_workflow"]
    changed = with_step_field(current, step_id, "task_prompt", prompt)
    response = api.put(workflow_url(key), json={"effective_workflow": changed})
    assert response.status_code == 200, response.get_json()


def etag(api, key: str) -> str:
    """The workflow's ETag now."""
    return api.get(workflow_url(key)).headers["ETag"]


def revision(api, key: str) -> int:
    """The workflow's revision now."""
    return api.get(workflow_url(key)).get_json()["revision"]


def request(api, key: str, item_key: str = PROMPT_KEY, reason: str = "Ours on purpose.", **more):
    """POST a request for the acceptance of ``item_key``; ``headers`` go with it."""
    headers = more.pop("headers", None)
    body = {"key": item_key, "reason": reason, **more}
    return api.post(deviations_url(key), json=body, headers=headers)


def approve(api, key: str, item_key: str = PROMPT_KEY, headers=None, **body):
    """POST the approval of the request for ``item_key``."""
    return api.post(deviations_url(key, item_key, "approve"), json=body, headers=headers)


def reject(api, key: str, item_key: str = PROMPT_KEY, reason="Not like this.", headers=None):
    """POST the rejection of the request for ``item_key``."""
    return api.post(
        deviations_url(key, item_key, "reject"), json={"reason": reason}, headers=headers
    )


def withdraw(api, key: str, item_key: str = PROMPT_KEY, headers=None):
    """DELETE the request or acceptance of ``item_key``."""
    return api.delete(deviations_url(key, item_key), headers=headers)


def prompt_item(api, key: str) -> dict:
    """The drift item of the edited prompt now."""
    drift = api.get(f"{workflow_url(key)}/drift").get_json()
    return next(item for item in drift["items"] if item["key"] == PROMPT_KEY)


def listed(api, key: str) -> dict[str, dict]:
    """The deviation rows by key, as the list answers them."""
    body = api.get(deviations_url(key)).get_json()
    return {row["key"]: row for row in body["deviations"]}


def history(api, key: str) -> list[dict]:
    """Every history entry, newest first."""
    return api.get(f"{workflow_url(key)}/history?limit=100").get_json()["entries"]
