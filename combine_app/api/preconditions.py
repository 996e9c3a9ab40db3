"""``If-Match`` and ``ETag`` for every request that changes a workflow instance.

Put ``@changes_instance(roles.ACTION)`` where ``@unit_of_work`` would go (under the route,
and under ``@reads_caller`` when there is one) and the route, whatever it changes (the
definition, the status, a deviation), then:

- runs as one transaction in which the caller's role is checked (403), the instance row is
  locked (PostgreSQL) and ``If-Match``, when sent, is compared with its revision before the
  view runs: 412 when stale, and the 412 carries the instance's current ``ETag``;
- answers with the instance's new ``ETag`` (success answers only);
- is documented with the ``If-Match`` parameter, the 412 problem and the ``ETag`` header.

``If-Match`` is read with Werkzeug's parser: ``*`` only asks that the instance exist; a weak
tag, a tag naming another instance or a malformed one can never match (412); of several strong
tags naming this instance, the newest revision is the one insisted on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from copy import deepcopy

from flask import current_app, g, request

from combine_app.api.declare import CHANGES_INSTANCE
from combine_app.catalog.app_loader import get_loader
from combine_app.database import transaction
from combine_app.errors import PreconditionFailed
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.projects.models import Project
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.service import WorkflowInstanceService, instance_etag, require_revision

_ETAG = re.compile(r"^(?P<instance>[0-9a-f-]{36}):(?P<revision>\d{1,9})$")


def changes_instance(action: str) -> Callable[[Callable], Callable]:
    """Run a route that changes the project's instance under ``If-Match``, answering its ETag.

    ``action`` is the least the caller's role must allow (``roles.SAVE_WORKFLOW``...): 404 for
    a project the caller cannot see, 403 for a role that may not act, both before ``If-Match``
    is judged. The route takes ``project_id``; the project comes from ``g.read`` when
    ``@reads_caller`` read it. A project without an instance is 404. The view's own service
    call locks the same row again and sees what was checked; its own finer rules still apply.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            with transaction():
                instance = _locked_instance(kwargs["project_id"], action)
                require_revision(instance, expected_revision(instance))
                response = view(*args, **kwargs)
                db.session.flush()
                tag = instance_etag(instance)
            if response.status_code < 300:
                response.headers["ETag"] = tag
            return response

        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        wrapper._apidoc[CHANGES_INSTANCE] = True
        wrapper._apidoc.setdefault("problems", []).append(412)
        return wrapper

    return decorator


def _locked_instance(project_ref: str, action: str) -> WorkflowInstance:
    # g.read is this request's only when the route reads the caller first (it may outlive a
    # request where an application context spans several, as in the tests).
    view = current_app.view_functions.get(request.endpoint)
    read = g.get("read") if getattr(view, "reads_caller", False) else None
    if isinstance(read, Project):
        roles.require(read, g.user, action)
        project = read
    else:
        project = projects.get_project(g.user, project_ref, action)
    service = WorkflowInstanceService(db.session, get_loader())
    return service.get_instance(project, for_update=True)


def expected_revision(instance: WorkflowInstance) -> int | None:
    """The revision of ``instance`` that ``If-Match`` insists on; None when there is none.

    412 (with the current ETag) when the header names no revision of this instance.
    """
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    revisions = [
        int(match["revision"])
        # An empty quoted tag ("") is parsed as None: it names nothing, so it cannot match.
        for match in map(_ETAG.match, filter(None, tags.as_set()))
        if match and match["instance"] == str(instance.id)
    ]
    if revisions:
        return max(revisions)
    raise PreconditionFailed(
        f"If-Match {request.headers['If-Match']!r} does not name the current workflow "
        f"({instance_etag(instance)}).",
        headers={"ETag": instance_etag(instance)},
    )
