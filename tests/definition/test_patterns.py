"""One identifier and one version rule at every door: the config loader, the API's schemas,
intake and the editor refuse and accept the same spellings."""

from __future__ import annotations

import pytest

from combine_app.catalog.validation import is_semver
from combine_app.definition.patterns import SEMVER_WORDS, is_identifier
from combine_app.workflows.schemas import SEMVER

REFUSED_VERSIONS = ["01.0.0", "1.00.0", "1.0", "1.0.0\n", " 1.0.0x", "v1.0.0", "1.0.0.0"]
ACCEPTED_VERSIONS = ["0.0.0", "1.1.0", "10.20.300"]


@pytest.mark.parametrize("version", REFUSED_VERSIONS)
def test_a_version_the_config_refuses_the_schemas_refuse_too(version):
    assert not is_semver(version)
    with pytest.raises(Exception, match="version like 1.0.0"):
        SEMVER(version)


@pytest.mark.parametrize("version", ACCEPTED_VERSIONS)
def test_a_version_the_config_accepts_the_schemas_accept_too(version):
    assert is_semver(version)
    assert SEMVER(version) == version


@pytest.mark.parametrize(
    ("value", "ok"),
    [("a_1", True), ("A", False), ("1a", False), ("", False), ("a" * 101, False), (3, False)],
)
def test_identifiers(value, ok):
    assert is_identifier(value) is ok


def test_the_api_and_intake_refuse_a_leading_zero_version_with_the_same_words(
    api, make_project, alice
):
    project = make_project(alice)
    assigned = api.post(
        f"/projects/{project.project_id}/workflow",
        json={"workflow_id": "software_product_development", "version": "01.1.0"},
    )
    assert assigned.status_code == 422
    assert assigned.get_json()["errors"]["/version"] == [SEMVER_WORDS]
    intake = api.post(
        "/projects/from-intake",
        json={
            "intake_document": {"project_name": "Zero"},
            "workflow_id": "software_product_development",
            "workflow_version": "01.1.0",
        },
    )
    assert intake.status_code == 422
    assert intake.get_json()["errors"]["/workflow_version"] == [SEMVER_WORDS]
