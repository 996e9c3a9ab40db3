"""Typed errors raised when a workflow cannot be found or its definition cannot be used.

``str(error)`` is what a client may read: it never names a file or folder of the server.
``error.located`` adds the path, for logs and for ``config check`` run by an operator.
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every catalog error; ``path`` is the file or folder involved, when known."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        return self.reason

    @property
    def located(self) -> str:
        """The message with the server path it concerns, for operators only."""
        return f"{self} ({self.path})" if self.path else str(self)


class UnknownWorkflow(CatalogError):
    """No POW with this id exists in the config folder."""

    def __init__(self, workflow_id: str, path: str | None = None) -> None:
        super().__init__(f"there is no POW with the id {workflow_id!r:.120}", path)
        self.workflow_id = workflow_id

    def __str__(self) -> str:
        return f"Unknown workflow {self.workflow_id!r:.120}: there is no POW with that id."


class UnknownVersion(CatalogError):
    """The workflow exists but has no release with this version."""

    def __init__(self, workflow_id: str, version: str, path: str | None = None) -> None:
        super().__init__(f"workflow {workflow_id!r} has no release {version!r:.60}", path)
        self.workflow_id = workflow_id
        self.version = version

    def __str__(self) -> str:
        return f"Workflow {self.workflow_id!r} has no release {self.version!r:.60}."


class InvalidDefinition(CatalogError):
    """A release file exists but cannot be read or is not a valid POW."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason, path)

    def __str__(self) -> str:
        return f"Invalid workflow definition: {self.reason}"
