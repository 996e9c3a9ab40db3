"""Whether a workflow definition can run: the source system's rules, and Combine's warnings.

Pure functions over a plain definition (no Flask, no database). ``problems(definition)`` lists
every problem with its severity, a stable code, a message and the JSON pointer it concerns.

Errors are the rules the source system (TheCombine's workflow validator, ADR-011 and ADR-027)
checks before it runs a workflow. Each applies only when the definition declares what it checks:
``scopes`` for scope rules, ``document_types`` for what steps produce and consume,
``entity_types`` for what documents own and iterations walk. A definition that declares none of
them (an older or hand-made one) has structure only, and no error here.

- the scope hierarchy: every parent declared, no cycle;
- every scope named (by a document type, an entity type, a step or an input) is declared;
- every document type a step produces, an input or an iteration names is declared; likewise
  entity types (``may_own``, iterations, inputs);
- a step's scope is the scope of the document it produces;
- an iteration names its document type, the collection field, and an entity type that document
  owns (or iterates over its own type);
- which inputs a step may reference: an ancestor scope always, its own scope only as the
  iteration's context item (or at a root scope), never a descendant scope (unless the input
  collects all of them: ``collect: all``, Combine's aggregate input) nor another branch.

Warnings (Combine's own, never blocking): a document input that no earlier step in the run order
produces, and one that no step produces at all.

The source's prompt-name rules (``Name v#.#`` checked against its seed manifest) are not
applied: Combine has no prompt manifest, and its task prompts are prose.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from combine_app.definition.tree import iter_steps, step_at

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One reason a workflow cannot run (error) or may not run as meant (warning)."""

    severity: str
    code: str
    message: str
    pointer: str


def problems(definition: object) -> list[Problem]:
    """Every problem of ``definition``, errors first, each group in document order."""
    if not isinstance(definition, Mapping):
        return []
    found = list(_errors(definition)) + list(_warnings(definition))
    return sorted(found, key=lambda problem: problem.severity != ERROR)


def errors_added(
    before: object, after: object, after_problems: list[Problem] | None = None
) -> list[Problem]:
    """The errors ``after`` has that ``before`` did not: what a change would add. An error the
    definition already had is not the change's doing, even where a move changed its pointer:
    errors are matched by code and by the step_id of the step they concern (``anchor``).
    ``after_problems``: ``problems(after)`` when the caller has it already."""
    found = problems(after) if after_problems is None else after_problems
    errors = [problem for problem in found if problem.severity == ERROR]
    if not errors:  # the usual save: nothing to compare, so ``before`` is not checked at all
        return []
    known = {anchor(problem, before) for problem in problems(before) if problem.severity == ERROR}
    return [problem for problem in errors if anchor(problem, after) not in known]


def anchor(problem: Problem, definition: object) -> tuple[str, str, str]:
    """A problem's place that survives moves: its code, the step_id of the innermost step its
    pointer names (or its pointer when it names none) and the rest of its pointer."""
    tokens = problem.pointer.split("/")[1:]
    path: list[int] = []
    while len(tokens) >= 2 and tokens[0] == "steps" and tokens[1].isdigit():
        path.append(int(tokens[1]))
        tokens = tokens[2:]
    rest = "/".join(tokens)
    if path and isinstance(definition, Mapping):
        try:
            step = step_at(definition, tuple(path))
        except LookupError:
            step = None
        if isinstance(step, Mapping) and isinstance(step.get("step_id"), str):
            return problem.code, f"step:{step['step_id']}", rest
    return problem.code, problem.pointer, ""


def _declared(definition: Mapping, key: str) -> dict | None:
    value = definition.get(key)
    return value if isinstance(value, Mapping) else None


def _named(value: object) -> str | None:
    """A name as a rule can look it up: a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def _error(code: str, message: str, pointer: str) -> Problem:
    return Problem(ERROR, code, message, pointer)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class _Scopes:
    """The declared scope hierarchy: parents, ancestors, descendants."""

    def __init__(self, declared: Mapping):
        self.parents = {
            name: (config.get("parent") if isinstance(config, Mapping) else None)
            for name, config in declared.items()
        }

    def __contains__(self, scope: object) -> bool:
        return isinstance(scope, str) and scope in self.parents

    def ancestors(self, scope: str) -> list[str]:
        """The parent chain of ``scope``, nearest first (stops at a cycle or an unknown name)."""
        chain: list[str] = []
        current = self.parents.get(scope)
        while isinstance(current, str) and current in self.parents and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    def is_root(self, scope: str) -> bool:
        return self.parents.get(scope) is None


def _errors(definition: Mapping) -> Iterator[Problem]:
    scopes_declared = _declared(definition, "scopes")
    doc_types = _declared(definition, "document_types")
    entity_types = _declared(definition, "entity_types")
    scopes = _Scopes(scopes_declared) if scopes_declared is not None else None
    if scopes_declared is not None:
        yield from _hierarchy_errors(scopes_declared)
    if doc_types is not None:
        yield from _document_type_errors(doc_types, scopes, entity_types)
    if entity_types is not None and scopes is not None:
        for name, config in entity_types.items():
            scope = config.get("creates_scope") if isinstance(config, Mapping) else None
            if scope is not None and scope not in scopes:
                yield _error(
                    "unknown_scope",
                    f"Entity type '{name}' creates unknown scope '{scope}'.",
                    f"/entity_types/{_escape(name)}/creates_scope",
                )
    for pointer, step, scope in _steps_with_scope(definition):
        yield from _step_errors(pointer, step, scope, scopes, doc_types, entity_types)


def _hierarchy_errors(declared: Mapping) -> Iterator[Problem]:
    for name, config in declared.items():
        pointer = f"/scopes/{_escape(name)}"
        if not isinstance(config, Mapping):
            yield _error("invalid_scope_hierarchy", f"Scope '{name}' must be a mapping.", pointer)
            continue
        parent = config.get("parent")
        if parent is not None and parent not in declared:
            yield _error(
                "invalid_scope_hierarchy",
                f"Scope '{name}' has unknown parent '{parent}'.",
                f"{pointer}/parent",
            )
    parents = {
        name: config.get("parent")
        for name, config in declared.items()
        if isinstance(config, Mapping)
    }
    for name in parents:
        seen = {name}
        current = parents.get(name)
        while isinstance(current, str) and current in parents:
            if current == name:
                yield _error(
                    "invalid_scope_hierarchy",
                    f"Scope '{name}' is its own ancestor (a cycle).",
                    f"/scopes/{_escape(name)}/parent",
                )
                break
            if current in seen:
                break
            seen.add(current)
            current = parents.get(current)


def _document_type_errors(
    doc_types: Mapping, scopes: _Scopes | None, entity_types: Mapping | None
) -> Iterator[Problem]:
    for name, config in doc_types.items():
        if not isinstance(config, Mapping):
            continue
        pointer = f"/document_types/{_escape(name)}"
        scope = config.get("scope")
        if scopes is not None and scope is not None and scope not in scopes:
            yield _error(
                "unknown_scope",
                f"Document type '{name}' has unknown scope '{scope}'.",
                f"{pointer}/scope",
            )
        owned = config.get("may_own")
        if entity_types is not None and isinstance(owned, list):
            for index, entity in enumerate(owned):
                if not isinstance(entity, str) or entity not in entity_types:
                    yield _error(
                        "unknown_entity_type",
                        f"Document type '{name}' may own unknown entity type '{entity}'.",
                        f"{pointer}/may_own/{index}",
                    )


def _steps_with_scope(definition: Mapping) -> Iterator[tuple[str, Mapping, str | None]]:
    """Each step with the scope it runs in: its own, else the enclosing step's."""
    scope_at: dict[str, str | None] = {}
    for pointer, step in iter_steps(definition.get("steps")):
        parent_pointer = pointer.rsplit("/steps/", 1)[0]
        inherited = scope_at.get(parent_pointer)
        own = step.get("scope")
        scope = own if isinstance(own, str) and own else inherited
        scope_at[pointer] = scope
        yield pointer, step, scope


def _step_errors(
    pointer: str,
    step: Mapping,
    scope: str | None,
    scopes: _Scopes | None,
    doc_types: Mapping | None,
    entity_types: Mapping | None,
) -> Iterator[Problem]:
    own_scope = step.get("scope")
    if scopes is not None and own_scope is not None and own_scope not in scopes:
        yield _error(
            "unknown_scope", f"The step's scope '{own_scope}' is not declared.", f"{pointer}/scope"
        )
    produces = step.get("produces")
    if doc_types is not None and "produces" in step:
        name = _named(produces)
        if name is None or name not in doc_types:
            yield _error(
                "unknown_document_type",
                f"The step produces '{produces}', which is not a declared document type.",
                f"{pointer}/produces",
            )
        else:
            doc_scope = (
                doc_types[name].get("scope") if isinstance(doc_types[name], Mapping) else None
            )
            if isinstance(doc_scope, str) and isinstance(own_scope, str) and doc_scope != own_scope:
                yield _error(
                    "scope_mismatch",
                    f"The step runs at scope '{own_scope}' but produces '{name}', whose scope is "
                    f"'{doc_scope}'.",
                    pointer,
                )
    iteration = step.get("iterate_over")
    if isinstance(iteration, Mapping) and doc_types is not None:
        yield from _iteration_errors(f"{pointer}/iterate_over", iteration, doc_types, entity_types)
    inputs = step.get("inputs")
    if isinstance(inputs, list):
        for index, reference in enumerate(inputs):
            if isinstance(reference, Mapping):
                yield from _input_errors(
                    f"{pointer}/inputs/{index}", reference, scope, scopes, doc_types, entity_types
                )


def _iteration_errors(
    pointer: str, iteration: Mapping, doc_types: Mapping, entity_types: Mapping | None
) -> Iterator[Problem]:
    doc_type = iteration.get("doc_type")
    entity_type = iteration.get("entity_type")
    if not isinstance(doc_type, str) or doc_type not in doc_types:
        yield _error(
            "missing_iteration_source",
            f"The iteration walks unknown document type '{doc_type}'.",
            f"{pointer}/doc_type",
        )
    else:
        if not iteration.get("collection_field"):
            yield _error(
                "missing_iteration_source",
                f"The iteration over '{doc_type}' names no collection_field.",
                f"{pointer}/collection_field",
            )
        config = doc_types[doc_type] if isinstance(doc_types[doc_type], Mapping) else {}
        owned = config.get("may_own") if isinstance(config.get("may_own"), list) else []
        if entity_type != doc_type and entity_type not in owned:
            yield _error(
                "missing_iteration_source",
                f"Document type '{doc_type}' does not own entity type '{entity_type}'.",
                f"{pointer}/entity_type",
            )
    if entity_types is not None and (
        not isinstance(entity_type, str) or entity_type not in entity_types
    ):
        yield _error(
            "unknown_entity_type",
            f"The iteration walks unknown entity type '{entity_type}'.",
            f"{pointer}/entity_type",
        )


def _input_errors(
    pointer: str,
    reference: Mapping,
    step_scope: str | None,
    scopes: _Scopes | None,
    doc_types: Mapping | None,
    entity_types: Mapping | None,
) -> Iterator[Problem]:
    doc_type = reference.get("doc_type")
    entity_type = reference.get("entity_type")
    if (
        doc_types is not None
        and "doc_type" in reference
        and (not isinstance(doc_type, str) or doc_type not in doc_types)
    ):
        yield _error(
            "invalid_reference",
            f"The input names unknown document type '{doc_type}'.",
            f"{pointer}/doc_type",
        )
    if (
        entity_types is not None
        and "entity_type" in reference
        and (not isinstance(entity_type, str) or entity_type not in entity_types)
    ):
        yield _error(
            "invalid_reference",
            f"The input names unknown entity type '{entity_type}'.",
            f"{pointer}/entity_type",
        )
    ref_scope = reference.get("scope")
    if scopes is None or ref_scope is None:
        return
    if ref_scope not in scopes:
        yield _error(
            "unknown_scope", f"The input names unknown scope '{ref_scope}'.", f"{pointer}/scope"
        )
        return
    if step_scope is None or step_scope not in scopes:
        return
    what = doc_type or entity_type or "the input"
    if ref_scope in scopes.ancestors(step_scope):
        return
    if ref_scope == step_scope:
        if reference.get("context") is True or scopes.is_root(ref_scope):
            return
        yield _error(
            "forbidden_sibling_reference",
            f"The input '{what}' is at the step's own scope '{ref_scope}' but is not the "
            "iteration's context item: a sibling's document cannot be referenced.",
            pointer,
        )
        return
    if step_scope in scopes.ancestors(ref_scope):
        if reference.get("collect") == "all":
            return
        yield _error(
            "forbidden_descendant_reference",
            f"The input '{what}' is at scope '{ref_scope}', below the step's scope "
            f"'{step_scope}': a descendant's document cannot be referenced (collect: all "
            "gathers every one of them instead).",
            pointer,
        )
        return
    yield _error(
        "forbidden_cross_branch_reference",
        f"The input '{what}' is at scope '{ref_scope}', on another branch than the step's scope "
        f"'{step_scope}'.",
        pointer,
    )


def _warnings(definition: Mapping) -> Iterator[Problem]:
    """Document inputs that no earlier step produces, or no step at all."""
    steps = list(iter_steps(definition.get("steps")))
    produced_by_any = {
        name for _, step in steps if (name := _named(step.get("produces"))) is not None
    }
    produced_so_far: set[str] = set()
    for pointer, step in steps:
        inputs = step.get("inputs")
        for index, reference in enumerate(inputs if isinstance(inputs, list) else []):
            name = _named(reference.get("doc_type")) if isinstance(reference, Mapping) else None
            if name is None or name in produced_so_far:
                continue
            here = f"{pointer}/inputs/{index}/doc_type"
            if name not in produced_by_any:
                yield Problem(
                    WARNING,
                    "input_never_produced",
                    f"The input '{name}' is produced by no step of this workflow.",
                    here,
                )
            else:
                yield Problem(
                    WARNING,
                    "input_not_produced_earlier",
                    f"The input '{name}' is produced only by a later step: this step would run "
                    "before it exists.",
                    here,
                )
        name = _named(step.get("produces"))
        if name is not None:
            produced_so_far.add(name)
