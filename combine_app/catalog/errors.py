"""Typed errors raised when a workflow cannot be found or its definition cannot be used."""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every catalog error; ``path`` is the file or folder involved, when known."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        if self.path:
            return f"{self.path}: {self.reason}"
        return self.reason


class UnknownWorkflow(CatalogError):
    """No POW with this id exists in the config folder."""

    def __init__(self, workflow_id: str, path: str | None = None) -> None:
        super().__init__(f"there is no POW with the id {workflow_id!r:.120}", path)
        self.workflow_id = workflow_id

    def __str__(self) -> str:
        where = f" in {self.path}" if self.path else ""
        return f"Unknown workflow {self.workflow_id!r:.120}: there is no POW with that id{where}."


class UnknownVersion(CatalogError):
    """The workflow exists but has no release with this version."""

    def __init__(self, workflow_id: str, version: str, path: str | None = None) -> None:
        super().__init__(f"workflow {workflow_id!r} has no release {version!r:.60}", path)
        self.workflow_id = workflow_id
        self.version = version

    def __str__(self) -> str:
        where = f" in {self.path}" if self.path else ""
        return f"Workflow {self.workflow_id!r} has no release {self.version!r:.60}{where}."


class InvalidDefinition(CatalogError):
    """A release file exists but cannot be read or is not a valid POW."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason, path)

    def __str__(self) -> str:
        return f"Invalid workflow definition {self.path}: {self.reason}"
