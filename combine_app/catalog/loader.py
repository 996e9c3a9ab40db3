"""Read POW definitions from a combine-config folder, caching parsed files and naming problems."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import yaml

from combine_app.workflows.diff import content_hash

from .errors import CatalogError, InvalidDefinition, UnknownVersion, UnknownWorkflow
from .validation import (
    IDENTIFIER,
    MAX_ID_LENGTH,
    count_steps,
    is_graph,
    is_semver,
    parse_semver,
    validate_pow,
)

ACTIVE_RELEASES = Path("_active") / "active_releases.json"
DEFINITION_NAMES = ("definition.yaml", "definition.json")

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One broken file or pointer in the config folder, named by its path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class WorkflowInfo:
    """What the workbench shows about one POW, taken from its active release."""

    workflow_id: str
    name: str
    description: str
    pow_class: str
    derived_from: dict[str, Any] | None
    source_version: str | None
    tags: list[str]
    schema_version: str | None
    step_count: int
    versions: list[str]
    active_version: str


@dataclass(frozen=True)
class _Release:
    """One release folder: a valid POW, a graph-shaped workflow, or broken."""

    version: str
    path: Path
    kind: Literal["pow", "graph", "broken"]
    definition: dict[str, Any] | None = None
    problems: tuple[Problem, ...] = ()

    @cached_property
    def step_count(self) -> int:
        """Its steps, nested ones included: counted once per reading of the file (the project
        pages list every workflow on each request, one of them may have 1,000 steps)."""
        return count_steps(self.definition or {})


@dataclass
class _Workflow:
    """One workflow folder and its releases keyed by version."""

    workflow_id: str
    path: Path
    releases: dict[str, _Release] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def is_pow(self) -> bool:
        """A folder is a POW when any release is (or tries to be) step-based."""
        return any(release.kind != "graph" for release in self.releases.values())

    def loadable_versions(self) -> list[str]:
        """Versions whose definitions are valid POWs, ascending by semver."""
        valid = (v for v, release in self.releases.items() if release.kind == "pow")
        return sorted(valid, key=parse_semver)


@dataclass(frozen=True)
class _Pointers:
    """The active-release pointers and the problems found in their file."""

    versions: dict[str, str]
    problems: tuple[Problem, ...] = ()


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings, so every definition stays plain JSON data."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class PackageLoader:
    """Reads a combine-config folder; a parsed file is reused until it changes on disk."""

    def __init__(self, config_dir: Path | str) -> None:
        self.config_dir = Path(config_dir)
        self.workflows_dir = self.config_dir / "workflows"
        self.active_path = self.config_dir / ACTIVE_RELEASES
        # One lock for the cache: a threaded dev server may fill it from several requests.
        self._lock = threading.RLock()
        self._files: dict[Path, tuple[tuple[int, int, int], Any]] = {}
        # Each release's content hash, kept with the parsed release it was computed from.
        self._hashes: dict[Path, tuple[_Release, str]] = {}

    def reload(self) -> None:
        """Forget every cached file; the next call reads the folder afresh."""
        with self._lock:
            self._files.clear()

    def list_workflows(self) -> list[WorkflowInfo]:
        """Every POW (reference or template) whose active release loads, by workflow_id."""
        with self._lock:
            workflows, pointers, _ = self._scan_all()
            infos = []
            for workflow in workflows.values():
                if not workflow.is_pow:
                    continue
                active = self._active(workflow, pointers)
                release = workflow.releases[active]
                if release.kind == "pow":
                    infos.append(_info(workflow, release, active))
        return sorted(infos, key=lambda info: info.workflow_id)

    def get_definition(self, workflow_id: str, version: str | None = None) -> dict[str, Any]:
        """A fresh copy of one release's definition; ``version=None`` means the active one."""
        with self._lock:
            workflow = self._workflow(workflow_id)
            if version is None:
                version = self._active(workflow, self._pointers())
            definition = _loadable(workflow, version).definition
        return _fresh(definition)

    def shared_definition(self, workflow_id: str, version: str) -> Mapping[str, Any]:
        """One release's definition as the cache holds it, not copied: for readers only (a
        page naming steps), who must never change it. ``get_definition`` is the copy to keep."""
        with self._lock:
            return MappingProxyType(_loadable(self._workflow(workflow_id), version).definition)

    def release_state(self, workflow_id: str, version: str) -> tuple[str | None, str | None]:
        """The content hash of one release's definition (None when it does not load) and the
        workflow's active version (None when the workflow is unknown), in one scan.

        The hash is that of ``get_definition``'s answer, computed once per change of the file:
        what a drift computed from the source depends on, without copying the source.
        """
        with self._lock:
            try:
                workflow = self._workflow(workflow_id)
            except CatalogError:
                return None, None
            active = self._active(workflow, self._pointers())
            try:
                release = _loadable(workflow, version)
            except CatalogError:
                return None, active
            return self._hash(release), active

    def hashed_definition(self, workflow_id: str, version: str) -> tuple[dict[str, Any], str]:
        """``get_definition`` of one release and its content hash (as ``release_state`` says
        it), both from the same reading of the file."""
        with self._lock:
            release = _loadable(self._workflow(workflow_id), version)
            return _fresh(release.definition), self._hash(release)

    def active_version(self, workflow_id: str) -> str:
        """The version the pointer file names, else the highest release by semver."""
        with self._lock:
            return self._active(self._workflow(workflow_id), self._pointers())

    def versions(self, workflow_id: str) -> list[str]:
        """The versions of a POW that load, ascending by semver."""
        with self._lock:
            return self._workflow(workflow_id).loadable_versions()

    def pow_releases(self) -> list[tuple[str, dict[str, Any]]]:
        """Every release of every POW that loads, as (file path, fresh definition), by path."""
        with self._lock:
            workflows = self._scan_all()[0]
            found = [
                (str(release.path), _fresh(release.definition))
                for workflow in workflows.values()
                for release in workflow.releases.values()
                if release.kind == "pow"
            ]
        return sorted(found, key=lambda pair: pair[0])

    def problems(self) -> list[Problem]:
        """Every broken file, folder and pointer in the config folder, sorted by path."""
        with self._lock:
            return self._scan_all()[2]

    def _hash(self, release: _Release) -> str:
        """The content hash of a release's definition, computed once per reading of its file."""
        kept = self._hashes.get(release.path)
        if kept is None or kept[0] is not release:
            kept = (release, content_hash(_fresh(release.definition)))
            self._hashes[release.path] = kept
        return kept[1]

    def _workflow(self, workflow_id: str) -> _Workflow:
        """Scan one POW folder; ids are checked before they touch the file system."""
        valid = (
            isinstance(workflow_id, str)
            and len(workflow_id) <= MAX_ID_LENGTH
            and IDENTIFIER.fullmatch(workflow_id) is not None
        )
        if not valid:
            raise UnknownWorkflow(str(workflow_id)[:MAX_ID_LENGTH], str(self.workflows_dir))
        workflow = self._scan_workflow(self.workflows_dir / workflow_id)
        if workflow is None or not workflow.is_pow:
            raise UnknownWorkflow(workflow_id, str(self.workflows_dir))
        return workflow

    def _active(self, workflow: _Workflow, pointers: _Pointers) -> str:
        """Resolve the active version of a POW folder (which has at least one non-graph release)."""
        pointed = pointers.versions.get(workflow.workflow_id)
        if pointed in workflow.releases and workflow.releases[pointed].kind != "graph":
            return pointed
        loadable = workflow.loadable_versions()
        if loadable:
            return loadable[-1]
        candidates = (v for v, release in workflow.releases.items() if release.kind != "graph")
        return max(candidates, key=parse_semver)

    def _scan_all(self) -> tuple[dict[str, _Workflow], _Pointers, list[Problem]]:
        """Read the whole folder, collecting every problem; one bad file never stops the scan."""
        if not self.config_dir.is_dir():
            problem = Problem(str(self.config_dir), "the config folder does not exist")
            return {}, _Pointers({}), [problem]
        pointers = self._pointers()
        problems = list(pointers.problems)
        workflows: dict[str, _Workflow] = {}
        if not self.workflows_dir.is_dir():
            problems.append(Problem(str(self.workflows_dir), "the workflows folder does not exist"))
        else:
            for folder in _subfolders(self.workflows_dir, problems):
                workflow = self._scan_workflow(folder)
                if workflow is None:
                    continue
                workflows[workflow.workflow_id] = workflow
                problems.extend(workflow.problems)
                for release in workflow.releases.values():
                    problems.extend(release.problems)
        problems.extend(self._pointer_problems(workflows, pointers))
        self._prune(workflows)
        return workflows, pointers, sorted(problems, key=lambda problem: problem.path)

    def _pointer_problems(
        self, workflows: dict[str, _Workflow], pointers: _Pointers
    ) -> list[Problem]:
        """Name every active pointer whose workflow or release does not exist."""
        where = str(self.active_path)
        problems = []
        for workflow_id, version in pointers.versions.items():
            workflow = workflows.get(workflow_id)
            if workflow is None:
                missing = self.workflows_dir / workflow_id
                message = (
                    f"workflows.{workflow_id} points to {version}, but {missing} does not exist"
                )
                problems.append(Problem(where, message))
            elif version not in workflow.releases:
                missing = workflow.path / "releases" / version
                message = (
                    f"workflows.{workflow_id} points to release {version}, "
                    f"which does not exist ({missing})"
                )
                problems.append(Problem(where, message))
        return problems

    def _prune(self, workflows: dict[str, _Workflow]) -> None:
        """Drop cache entries for files that are gone from the folder."""
        live = {self.active_path}
        for workflow in workflows.values():
            live.update(release.path for release in workflow.releases.values())
        for path in [path for path in self._files if path not in live]:
            del self._files[path]
        for path in [path for path in self._hashes if path not in live]:
            del self._hashes[path]

    def _scan_workflow(self, folder: Path) -> _Workflow | None:
        """Read one workflow folder's releases; None when the folder does not exist."""
        if not folder.is_dir():
            return None
        workflow = _Workflow(folder.name, folder)
        releases_dir = folder / "releases"
        if not releases_dir.is_dir():
            message = "has no releases folder (expected releases/<version>/definition.yaml)"
            workflow.problems.append(Problem(str(folder), message))
            return workflow
        for release_dir in _subfolders(releases_dir, workflow.problems):
            if is_semver(release_dir.name):
                workflow.releases[release_dir.name] = self._release(
                    release_dir, workflow.workflow_id
                )
            else:
                message = f"release folder {release_dir.name!r} is not a version like '1.0.0'"
                workflow.problems.append(Problem(str(release_dir), message))
        if not workflow.releases and not workflow.problems:
            workflow.problems.append(Problem(str(releases_dir), "holds no release folders"))
        return workflow

    def _release(self, release_dir: Path, folder_id: str) -> _Release:
        """Read the one definition file of a release folder."""
        version = release_dir.name
        present = [
            release_dir / name for name in DEFINITION_NAMES if (release_dir / name).is_file()
        ]
        if len(present) != 1:
            message = (
                "holds both definition.yaml and definition.json; keep one"
                if present
                else "has no definition.yaml or definition.json"
            )
            return _Release(
                version, release_dir, "broken", problems=(Problem(str(release_dir), message),)
            )
        path = present[0]
        return self._cached(
            path, lambda document, error: _classify(path, version, folder_id, document, error)
        )

    def _pointers(self) -> _Pointers:
        """The active-release pointers; a missing file means every POW uses its highest release."""
        if not self.active_path.is_file():
            return _Pointers({})
        return self._cached(self.active_path, self._read_pointers)

    def _read_pointers(self, document: object, error: str | None) -> _Pointers:
        """Turn the parsed pointer file into version pointers and problems."""
        where = str(self.active_path)
        if error is not None:
            return _Pointers({}, (Problem(where, error),))
        if not isinstance(document, dict):
            return _Pointers({}, (Problem(where, f"must hold a mapping, not {_kind(document)}"),))
        section = document.get("workflows", {})
        if not isinstance(section, dict):
            message = '"workflows" must map each workflow_id to its active version'
            return _Pointers({}, (Problem(where, message),))
        versions, problems = {}, []
        for workflow_id, version in section.items():
            if is_semver(version):
                versions[workflow_id] = version
            else:
                message = f"workflows.{workflow_id}: {version!r:.60} is not a version like '1.0.0'"
                problems.append(Problem(where, message))
        return _Pointers(versions, tuple(problems))

    def _cached(self, path: Path, build: Callable[[object, str | None], T]) -> T:
        """``build(document, error)`` for a file, redone when its size, mtime or inode change."""
        try:
            stat = path.stat()
        except OSError as exc:
            return build(None, f"cannot be read: {exc.strerror}")
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        hit = self._files.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        document, error = None, None
        try:
            document = _decode(path, path.read_bytes())
        except OSError as exc:
            error = f"cannot be read: {exc.strerror}"
        except ValueError as exc:
            error = str(exc)
        result = build(document, error)
        self._files[path] = (key, result)
        return result


def _classify(
    path: Path, version: str, folder_id: str, document: object, error: str | None
) -> _Release:
    """Decide whether a parsed release file is a valid POW, a graph workflow, or broken."""
    where = str(path)
    if error is None and not isinstance(document, dict):
        error = (
            "the file is empty"
            if document is None
            else f"must hold a mapping, not {_kind(document)}"
        )
    if error is not None:
        return _Release(version, path, "broken", problems=(Problem(where, error),))
    if is_graph(document):
        return _Release(version, path, "graph")
    errors = validate_pow(document)
    workflow_id = document.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id != folder_id:
        message = f"workflow_id {workflow_id!r:.120} does not match its folder name {folder_id!r}"
        errors.setdefault("/workflow_id", []).append(message)
    if errors:
        problems = tuple(
            Problem(where, f"{pointer}: {message}" if pointer else message)
            for pointer, messages in errors.items()
            for message in messages
        )
        return _Release(version, path, "broken", problems=problems)
    return _Release(version, path, "pow", document)


def _decode(path: Path, data: bytes) -> object:
    """Parse YAML or JSON text (a UTF-8 byte-order mark is allowed); ValueError says why not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - _YamlLoader is a SafeLoader
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {_yaml_reason(exc)}") from None
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint on one line: what is wrong, where, and while doing what."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        context = f" ({exc.context})" if exc.context else ""
        return f"{exc.problem}{where}{context}"
    return " ".join(str(exc).split())[:300]


def _subfolders(folder: Path, problems: list[Problem]) -> list[Path]:
    """Sorted subfolders, skipping names that start with ``_`` or ``.`` (not workflows)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        problems.append(Problem(str(folder), f"cannot be listed: {exc.strerror}"))
        return []
    return [entry for entry in entries if entry.name[0] not in "_." and entry.is_dir()]


def _info(workflow: _Workflow, release: _Release, active: str) -> WorkflowInfo:
    """Build the listing row of a POW from its active definition."""
    definition = release.definition or {}
    return WorkflowInfo(
        workflow_id=workflow.workflow_id,
        name=definition["name"],
        description=definition.get("description", ""),
        pow_class=definition["pow_class"],
        derived_from=_fresh(definition.get("derived_from")),
        source_version=definition.get("source_version"),
        tags=list(definition.get("tags") or []),
        schema_version=definition.get("schema_version"),
        step_count=release.step_count,
        versions=workflow.loadable_versions(),
        active_version=active,
    )


def _loadable(workflow: _Workflow, version: object) -> _Release:
    """The release of ``version`` when it holds a valid POW; UnknownVersion or InvalidDefinition."""
    release = workflow.releases.get(version) if isinstance(version, str) else None
    if release is None or release.kind == "graph":
        raise UnknownVersion(workflow.workflow_id, str(version), str(workflow.path / "releases"))
    if release.kind == "broken":
        raise InvalidDefinition(str(release.path), _summary(release.problems))
    return release


def _fresh(value: T) -> T:
    """An unshared copy of JSON data; YAML aliases become separate objects, unlike deepcopy."""
    return json.loads(json.dumps(value))


def _summary(problems: tuple[Problem, ...]) -> str:
    """The first problem's message, with a count of the rest."""
    if not problems:
        return "the definition is not valid"
    rest = len(problems) - 1
    if rest == 0:
        return problems[0].message
    return f"{problems[0].message} (and {rest} more {'problem' if rest == 1 else 'problems'})"


def _kind(value: object) -> str:
    """A reader's name for the type of a parsed value."""
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
