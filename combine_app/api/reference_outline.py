"""The OpenAPI document as the reference page shows it: operations by tag, then the schemas.

Pure functions over the document dict (no Flask, no I/O): ``outline(document)`` returns what
``api/reference.html`` walks. Text from the document is escaped here; its Markdown is only
paragraphs and `code` (apispec keeps a docstring's reStructuredText ``code``, read the same way),
so that is all that is rendered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEMA_REF = "#/components/schemas/"
# ``code`` or `code`: the only inline Markdown in Combine's descriptions.
INLINE_CODE = re.compile(r"``(.+?)``|`([^`]+)`")
OR = Markup(" or ")
AND = Markup(" and ")


@dataclass(frozen=True)
class Field:
    """A parameter, a response header or a schema property."""

    name: str
    where: str  # "path", "query", "header", "cookie"; "" for a property
    required: bool
    type: Markup
    rules: tuple[Markup, ...]
    description: Markup


@dataclass(frozen=True)
class Body:
    """A request or response body in one media type."""

    media_type: str
    type: Markup


@dataclass(frozen=True)
class Response:
    """One status an operation answers with."""

    status: str
    description: Markup
    bodies: tuple[Body, ...]
    headers: tuple[Field, ...]


@dataclass(frozen=True)
class Operation:
    """One method on one path."""

    anchor: str
    method: str
    path: str
    summary: Markup
    description: tuple[Markup, ...]
    parameters: tuple[Field, ...]
    body: tuple[Body, ...]
    body_required: bool
    responses: tuple[Response, ...]


@dataclass(frozen=True)
class Group:
    """The operations of one tag, in the document's order."""

    name: str
    anchor: str
    description: tuple[Markup, ...]
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Model:
    """A schema of ``components/schemas``."""

    name: str
    anchor: str
    description: tuple[Markup, ...]
    type: Markup
    rules: tuple[Markup, ...]
    properties: tuple[Field, ...]
    other_keys: str  # what the schema says of keys it does not name


@dataclass(frozen=True)
class Scheme:
    """A way to authenticate."""

    name: str
    kind: Markup
    description: tuple[Markup, ...]


@dataclass(frozen=True)
class Outline:
    """Everything the reference page shows."""

    title: str
    version: str
    openapi: str
    description: tuple[Markup, ...]
    schemes: tuple[Scheme, ...]
    groups: tuple[Group, ...]
    models: tuple[Model, ...]


def inline(text: str | None) -> Markup:
    """``text`` escaped, with its `code` spans as <code>."""
    if not text:
        return Markup("")
    parts: list[Markup] = []
    last = 0
    for match in INLINE_CODE.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup("<code>%s</code>") % (match.group(1) or match.group(2)))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def paragraphs(text: str | None) -> tuple[Markup, ...]:
    """``text`` split at blank lines, each paragraph as ``inline`` renders it."""
    if not text:
        return ()
    return tuple(inline(" ".join(part.split())) for part in re.split(r"\n\s*\n", text.strip()))


def schema_anchor(name: str) -> str:
    """The id of a schema's section on the page."""
    return f"schema-{name}"


def type_of(schema: dict | bool | None) -> Markup:
    """A schema's type in words, each referenced schema a link to its section."""
    if not isinstance(schema, dict):
        return Markup("any")
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
        name = ref.removeprefix(SCHEMA_REF)
        return Markup('<a href="#%s">%s</a>') % (schema_anchor(name), name)
    for combiner, word in (("anyOf", OR), ("oneOf", OR), ("allOf", AND)):
        if combiner in schema:
            return word.join(type_of(part) for part in schema[combiner])
    kinds = schema.get("type")
    if kinds is None:
        return Markup("any")
    if isinstance(kinds, str):
        kinds = [kinds]
    return OR.join(_one_type(kind, schema) for kind in kinds)


def _one_type(kind: str, schema: dict) -> Markup:
    """One of a schema's types: arrays name their items, maps their values."""
    if kind == "array" and "items" in schema:
        return Markup("array of %s") % type_of(schema["items"])
    values = schema.get("additionalProperties")
    if kind == "object" and isinstance(values, dict) and not schema.get("properties"):
        return Markup("object with %s values") % type_of(values)
    return escape(kind)


def rules_of(schema: dict | bool | None) -> tuple[Markup, ...]:
    """What a value must be beyond its type: allowed values, length, range, pattern, default."""
    if not isinstance(schema, dict):
        return ()
    rules: list[Markup] = []
    if "enum" in schema:
        values = Markup(", ").join(_literal(value) for value in schema["enum"])
        rules.append(Markup("one of %s") % values)
    if "format" in schema:
        rules.append(Markup("format %s") % schema["format"])
    rules.extend(_bounds(schema, "minLength", "maxLength", " characters"))
    rules.extend(_bounds(schema, "minItems", "maxItems", " items"))
    rules.extend(_bounds(schema, "minimum", "maximum", ""))
    if "pattern" in schema:
        rules.append(Markup("matches <code>%s</code>") % schema["pattern"])
    if "default" in schema:
        rules.append(Markup("default %s") % _literal(schema["default"]))
    return tuple(rules)


def _bounds(schema: dict, low: str, high: str, unit: str) -> list[Markup]:
    """ "from 1 to 100 characters", "at least 1 character", "at most 200 characters"."""
    if low in schema and high in schema:
        return [Markup("from %s to %s%s") % (schema[low], schema[high], unit)]
    for key, words in ((low, "at least"), (high, "at most")):
        if key in schema:
            noun = unit.removesuffix("s") if schema[key] == 1 else unit
            return [Markup("%s %s%s") % (words, schema[key], noun)]
    return []


def _literal(value) -> Markup:
    """A JSON value as code."""
    return Markup("<code>%s</code>") % json.dumps(value, ensure_ascii=False)


def _field(name: str, where: str, required: bool, schema, description: str | None) -> Field:
    """A Field from its parts; the description falls back to the schema's own."""
    text = description or (schema.get("description") if isinstance(schema, dict) else None)
    return Field(name, where, required, type_of(schema), rules_of(schema), inline(text))


def _parameter(parameter: dict) -> Field:
    """A Field from an OpenAPI parameter object."""
    return _field(
        parameter["name"],
        parameter["in"],
        bool(parameter.get("required")),
        parameter.get("schema"),
        parameter.get("description"),
    )


def _bodies(content: dict | None) -> tuple[Body, ...]:
    """One Body per media type of a content map."""
    items = (content or {}).items()
    return tuple(Body(media_type, type_of(item.get("schema"))) for media_type, item in items)


def _response(status: str, response: dict) -> Response:
    """A Response from an OpenAPI response object."""
    headers = tuple(
        _field(name, "header", bool(h.get("required")), h.get("schema"), h.get("description"))
        for name, h in (response.get("headers") or {}).items()
    )
    description = inline(response.get("description"))
    return Response(status, description, _bodies(response.get("content")), headers)


def _operation(path: str, method: str, operation: dict, shared: list[dict]) -> Operation:
    """An Operation; parameters declared on the path come first."""
    own = operation.get("parameters") or []
    overridden = {(p["name"], p["in"]) for p in own}
    parameters = [p for p in shared if (p["name"], p["in"]) not in overridden] + own
    body = operation.get("requestBody") or {}
    anchor = operation.get("operationId") or re.sub(r"[^A-Za-z0-9]+", "-", f"{method}{path}")
    return Operation(
        anchor=anchor,
        method=method.upper(),
        path=path,
        summary=inline(operation.get("summary")),
        description=paragraphs(operation.get("description")),
        parameters=tuple(_parameter(p) for p in parameters),
        body=_bodies(body.get("content")),
        body_required=bool(body.get("required")),
        responses=tuple(
            _response(status, response)
            for status, response in sorted(operation.get("responses", {}).items())
        ),
    )


def _groups(document: dict) -> tuple[Group, ...]:
    """Operations under their first tag; tags in the document's order, untagged ones last."""
    declared = {tag["name"]: tag for tag in document.get("tags", [])}
    by_tag: dict[str, list[Operation]] = {name: [] for name in declared}
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters") or []
        for method in item:
            if method not in HTTP_METHODS:
                continue
            operation = item[method]
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append(_operation(path, method, operation, shared))
    return tuple(
        Group(
            name=name,
            anchor=f"tag-{name}",
            description=paragraphs(declared.get(name, {}).get("description")),
            operations=tuple(operations),
        )
        for name, operations in by_tag.items()
        if operations
    )


def _other_keys(schema: dict) -> str:
    """What an object schema says of keys it does not name."""
    extra = schema.get("additionalProperties")
    if extra is False:
        return "No other keys are accepted."
    if extra is True:
        return "Other keys are allowed."
    return ""


def _model(name: str, schema: dict) -> Model:
    """A Model from a component schema."""
    required = set(schema.get("required", []))
    properties = tuple(
        _field(key, "", key in required, value, None)
        for key, value in (schema.get("properties") or {}).items()
    )
    return Model(
        name=name,
        anchor=schema_anchor(name),
        description=paragraphs(schema.get("description")),
        type=type_of(schema),
        rules=rules_of(schema),
        properties=properties,
        other_keys=_other_keys(schema) if properties else "",
    )


def outline(document: dict) -> Outline:
    """What the reference page shows of ``document``."""
    info = document.get("info", {})
    components = document.get("components", {})
    schemes = tuple(
        Scheme(name, _scheme_kind(scheme), paragraphs(scheme.get("description")))
        for name, scheme in components.get("securitySchemes", {}).items()
    )
    return Outline(
        title=info.get("title", "API"),
        version=str(info.get("version", "")),
        openapi=str(document.get("openapi", "")),
        description=paragraphs(info.get("description")),
        schemes=schemes,
        groups=_groups(document),
        models=tuple(_model(name, item) for name, item in components.get("schemas", {}).items()),
    )


def _scheme_kind(scheme: dict) -> Markup:
    """How a security scheme's credentials are sent, in words."""
    if scheme.get("type") == "http":
        return (
            Markup("the <code>Authorization: %s …</code> header")
            % scheme.get("scheme", "").capitalize()
        )
    if scheme.get("type") == "apiKey":
        return Markup("the <code>%s</code> %s") % (scheme.get("name", ""), scheme.get("in", ""))
    return escape(scheme.get("type", ""))
