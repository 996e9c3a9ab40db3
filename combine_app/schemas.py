"""Schema pieces shared by the feature packages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from operator import attrgetter, itemgetter

from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate
from marshmallow.utils import ensure_text_type

MAX_PAGE_SIZE = 100
PROBLEM_JSON = "application/problem+json"


class Trimmed(fields.String):
    """A string with surrounding white space removed on load; NUL is refused.

    PostgreSQL cannot hold NUL in text, and the driver refuses it even as a query parameter
    (``?search=%00`` was a 500): a query argument never passes the JSON body's checks.
    """

    default_error_messages = {"nul": "Must not contain a NUL character (\\u0000)."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text.strip()


class FullMatch(validate.Regexp):
    """A pattern the whole value must match (``Regexp`` alone lets ``$`` pass a trailing
    newline); the document shows it anchored, as JSON Schema reads a pattern."""

    def __init__(self, pattern: str, error: str) -> None:
        super().__init__(f"^(?:{pattern})$", error=error)

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class DescribedDict(fields.Dict):
    """A mapping kept exactly as sent, described in the API by ``described_by``.

    For documents with keys of their own (a POW definition): a Nested schema would drop on dump
    what it does not name, and the rules the document must follow live in the service.
    """

    def __init__(self, described_by: type[Schema], **kwargs):
        super().__init__(**kwargs)
        self.described_by = described_by


_WHOLE_TEXT = re.compile(r"(-?[0-9]{1,12})(?:\.0*)?")


class WholeNumber(fields.Integer):
    """An integer as the document's ``integer`` (JSON Schema) reads it: 3 and 3.0 are 3; 3.5,
    ``true`` and ``"3"`` in a JSON body are refused ("Not a valid integer.").

    ``from_text``: the value comes from a query string, where "3" and "3.0" are 3 too.
    """

    def __init__(self, *, from_text: bool = False, **kwargs):
        super().__init__(strict=True, **kwargs)
        self.from_text = from_text

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif self.from_text and isinstance(value, str):
            match = _WHOLE_TEXT.fullmatch(value.strip())
            if match is None:
                raise self.make_error("invalid", input=value)
            value = int(match.group(1))
        return super()._validated(value)


class StrictSchema(Schema):
    """Refuses keys it does not know, so typos surface as 422 instead of being ignored."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    """``offset`` and ``limit`` query arguments, bounded."""

    offset = WholeNumber(
        from_text=True, load_default=0, validate=validate.Range(min=0, max=10_000_000)
    )
    limit = WholeNumber(
        from_text=True, load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


class ResponseSchema(StrictSchema):
    """A response body: the API description lists every field as always present, none else.

    Marshmallow ignores ``required`` on dump, so the OpenAPI converter
    (``combine_app.api.openapi``) marks each dumped field of these schemas required and the
    object closed. A key that may be absent belongs in a schema that is not a ResponseSchema.

    ``dump`` follows a plan made once per schema object from its fields: for each, where its
    value is read and the one conversion marshmallow's field would apply. That is what
    marshmallow's dump does for these field types, without its per-field dispatch, which costs
    more than the work (a page of 100 projects spent milliseconds in it). A schema with hooks
    or options the plan does not know, or an object without a field's attribute, is dumped by
    marshmallow itself; ``tests/api/test_response_dump.py`` holds both ways to the same result.
    """

    use_plan = True  # tests turn it off to compare with marshmallow's own dump

    def dump(self, obj, *, many: bool | None = None):
        """Serialise ``obj`` (or each of them) as marshmallow would."""
        if not self.use_plan:
            return super().dump(obj, many=many)
        plan = self.__dict__.get("_plan", _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self.__dict__["_plan"] = _dump_plan(self)
        if plan is None:
            return super().dump(obj, many=many)
        many = self.many if many is None else many
        try:
            if many:
                items = list(obj)
                if not items:
                    return []
                by_key = _is_mapping(items[0])
                return [_dump_planned(plan, item, by_key) for item in items]
            return _dump_planned(plan, obj, _is_mapping(obj))
        except (AttributeError, KeyError):  # a missing value: marshmallow's rules decide
            return super().dump(obj, many=many)


def _is_mapping(obj) -> bool:
    return type(obj) is dict or isinstance(obj, Mapping)


def _dump_planned(plan, obj, by_key: bool) -> dict:
    """One object through a plan: each value read by key or attribute, then converted."""
    dumped = {}
    for key, by_attribute, by_item, convert in plan:
        value = by_item(obj) if by_key else by_attribute(obj)
        dumped[key] = value if convert is None or value is None else convert(value)
    return dumped


_UNPLANNED = object()


def _readers(schema: Schema, attribute: str):
    """How a field's value is read, from an object and from a mapping.

    Through ``schema.get_attribute`` when the schema overrides it, else directly.
    """
    if type(schema).get_attribute is not Schema.get_attribute:

        def read_by_schema(obj):
            value = schema.get_attribute(obj, attribute, missing)
            if value is missing:
                raise KeyError(attribute)
            return value

        return read_by_schema, read_by_schema
    by_attribute = attrgetter(attribute)
    if "." not in attribute:
        return by_attribute, itemgetter(attribute)
    head, _, rest = attribute.partition(".")
    return by_attribute, lambda obj: attrgetter(rest)(obj[head])


_SAME = object()  # the value is dumped as it is


def _converter(field: fields.Field):
    """The conversion marshmallow's ``field`` applies to a value that is not None.

    _SAME when it applies none; None when this field type is not planned.
    """
    if isinstance(field, fields.Nested):
        nested = field.schema
        if not isinstance(nested, ResponseSchema) or nested.many:
            return None
        if field.many:
            return lambda value: nested.dump(value, many=True)
        return nested.dump
    if isinstance(field, fields.List):
        inner = _converter(field.inner)
        if inner is None:
            return None
        if inner is _SAME:
            return list
        return lambda value: [None if each is None else inner(each) for each in value]
    if type(field) in {fields.DateTime, fields.AwareDateTime, fields.NaiveDateTime}:
        if (field.format or field.DEFAULT_FORMAT) not in {"iso", "iso8601"}:
            return None
        return datetime.isoformat
    if type(field) is fields.UUID:
        return str
    if type(field) in {fields.String, Trimmed}:
        return lambda value: value if type(value) is str else ensure_text_type(value)
    if type(field) is fields.Integer and not field.as_string:
        return lambda value: value if type(value) is int else int(value)
    if type(field) in {fields.Boolean, fields.Raw}:
        return _SAME
    if type(field) in {fields.Dict, DescribedDict}:
        if field.key_field is None and field.value_field is None:
            return dict
    return None


def _dump_plan(schema: Schema):
    """(key, read by attribute, read by key, convert) per dumped field; None when
    marshmallow must dump the schema itself (hooks, or a field type not planned)."""
    if any("dump" in str(tag) for tag, hooks in schema._hooks.items() if hooks):
        return None
    plan = []
    for name, field in schema.dump_fields.items():
        convert = _converter(field)
        if convert is None:
            return None
        by_attribute, by_item = _readers(schema, field.attribute or name)
        plan.append(
            (field.data_key or name, by_attribute, by_item, None if convert is _SAME else convert)
        )
    return plan


class PageSchema(ResponseSchema):
    """The paging fields every list page answers with."""

    total = fields.Integer(validate=validate.Range(min=0))
    offset = fields.Integer(validate=validate.Range(min=0))
    limit = fields.Integer(validate=validate.Range(min=1))


class ProblemSchema(StrictSchema):
    """RFC 9457 problem details: the one error body of ``/api/v1``."""

    type = fields.String(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1))
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599))
    detail = fields.String(required=True, validate=validate.Length(min=1))
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by field name or JSON pointer."},
    )


problem_schema = ProblemSchema()


def problem_body(status: int, detail: str, errors: dict | None = None) -> dict:
    """The problem+json body of ``status``; ``errors`` only when there are some."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    return problem_schema.dump(body)
