"""``manage.py fuzz_dictionaries``: the schemathesis configuration that names real objects in path parameters
(apps/api/management/commands/fuzz_dictionaries.py, used by .ci/schemathesis.sh)."""

from __future__ import annotations

import io
import re
import tomllib

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from apps.api.management.commands.fuzz_dictionaries import PATH_PARAMETERS, PER_KIND, PROBABILITY
from tests.factories import OrganizationFactory, ProjectFactory


def _output() -> dict:
    out = io.StringIO()
    call_command("fuzz_dictionaries", stdout=out)
    return tomllib.loads(out.getvalue())


def test_every_path_parameter_of_the_schema_names_a_model_with_public_ids(openapi_schema):
    parameters = {name for path in openapi_schema["paths"] for name in re.findall(r"{(\w+)}", path)}
    assert parameters == set(PATH_PARAMETERS), "a path parameter was added or removed: map it to its model"
    for label in PATH_PARAMETERS.values():
        assert any(field.name == "public_id" for field in apps.get_model(label)._meta.fields), label


@pytest.mark.django_db
def test_the_configuration_binds_path_parameters_to_real_ids():
    lab, other_lab = OrganizationFactory(kind="lab"), OrganizationFactory(kind="lab")
    projects = [ProjectFactory(lab=lab), ProjectFactory(lab=other_lab)]

    config = _output()

    # Every tenant's ids: another organisation's project must still answer 404 to the persona.
    assert set(config["dictionaries"]["project_id"]["values"]) == {str(p.public_id) for p in projects}
    assert str(lab.public_id) in config["dictionaries"]["org_id"]["values"]
    assert config["parameters"]["path.project_id"] == {"dictionary": "project_id", "probability": PROBABILITY}
    # A kind with no rows has no dictionary (schemathesis refuses an empty one) and stays random.
    assert "appeal_id" not in config["dictionaries"]
    assert "path.appeal_id" not in config["parameters"]
    assert set(config["parameters"]) == {f"path.{name}" for name in config["dictionaries"]}


@pytest.mark.django_db
def test_at_most_per_kind_ids_of_each_kind():
    lab = OrganizationFactory(kind="lab")
    for _ in range(PER_KIND + 3):
        ProjectFactory(lab=lab)
    assert len(_output()["dictionaries"]["project_id"]["values"]) == PER_KIND


def test_it_refuses_to_run_under_the_production_settings(settings):
    settings.SETTINGS_MODULE = "marketplace.settings.production"
    with pytest.raises(CommandError, match="production"):
        call_command("fuzz_dictionaries", stdout=io.StringIO())
