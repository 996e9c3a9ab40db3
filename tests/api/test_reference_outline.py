"""The reference page's reading of an OpenAPI document, as pure code."""

from __future__ import annotations

from combine_app.api.reference_outline import inline, outline, paragraphs, rules_of, type_of


def test_text_is_escaped_and_its_code_spans_become_code():
    assert inline("a <b> & `x<y>` or ``z``") == (
        "a &lt;b&gt; &amp; <code>x&lt;y&gt;</code> or <code>z</code>"
    )
    assert paragraphs("one\nline\n\n  two ") == ("one line", "two")
    assert paragraphs(None) == ()


def test_types_name_references_items_values_and_alternatives():
    assert type_of({"$ref": "#/components/schemas/Step"}) == '<a href="#schema-Step">Step</a>'
    assert type_of({"type": "array", "items": {"$ref": "#/components/schemas/Step"}}) == (
        'array of <a href="#schema-Step">Step</a>'
    )
    assert type_of({"type": ["string", "null"]}) == "string or null"
    assert type_of({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == "integer or null"
    assert type_of({"type": "object", "additionalProperties": {"type": "string"}}) == (
        "object with string values"
    )
    assert type_of({}) == "any"


def test_rules_say_values_lengths_ranges_patterns_and_defaults():
    rules = rules_of(
        {"type": "string", "enum": ["a", "<b>"], "minLength": 1, "pattern": "^x<$", "default": "a"}
    )
    assert rules == (
        "one of <code>&#34;a&#34;</code>, <code>&#34;&lt;b&gt;&#34;</code>",
        "at least 1 character",
        "matches <code>^x&lt;$</code>",
        "default <code>&#34;a&#34;</code>",
    )
    assert rules_of({"minimum": 1, "maximum": 100}) == ("from 1 to 100",)
    assert rules_of({"maxLength": 200}) == ("at most 200 characters",)


def test_operations_are_grouped_by_first_tag_with_path_parameters_first():
    path_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    document = {
        "info": {"title": "T", "version": "1"},
        "tags": [{"name": "second"}, {"name": "first", "description": "The `first` tag."}],
        "paths": {
            "/things/{id}": {
                "parameters": [path_id],
                "get": {
                    "operationId": "getThing",
                    "tags": ["first", "second"],
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"404": {"description": "No"}, "200": {"description": "Yes"}},
                },
                "delete": {"tags": ["untagged-before"], "responses": {}},
            }
        },
        "components": {"schemas": {"Thing": {"type": "object", "additionalProperties": False}}},
    }
    result = outline(document)
    assert [group.name for group in result.groups] == ["first", "untagged-before"]
    assert result.groups[0].description == ("The <code>first</code> tag.",)
    get = result.groups[0].operations[0]
    assert (get.anchor, get.method, get.path) == ("getThing", "GET", "/things/{id}")
    assert [(p.name, p.where, p.required) for p in get.parameters] == [
        ("id", "path", True),
        ("q", "query", False),
    ]
    assert [r.status for r in get.responses] == ["200", "404"]
    assert result.groups[1].operations[0].anchor == "delete-things-id-"
    assert [model.anchor for model in result.models] == ["schema-Thing"]
