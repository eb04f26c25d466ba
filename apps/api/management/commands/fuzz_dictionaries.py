"""``manage.py fuzz_dictionaries``: a schemathesis configuration that feeds real ids into path parameters.

Generated ids never name an object, so without this almost every operation on ``/projects/{project_id}/...``
answers 404 and the fuzzer never reaches the code behind it. Printed as TOML: one dictionary per path
parameter with the public ids of the demo's objects of that kind (every tenant's: another
organisation's id must still be a 404), and a binding that uses one of them for ``PROBABILITY`` of the
generated cases (the rest stay random). Needs the demo data (``seed_demo``); not for production.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Path parameter -> the model whose ``public_id`` it names. tests/api/test_fuzz_dictionaries.py checks that
# every path parameter of the schema is here.
PATH_PARAMETERS = {
    "appeal_id": "work.Appeal",
    "assignment_id": "contracts.Assignment",
    "attempt_id": "assessments.Attempt",
    "batch_id": "work.WorkBatch",
    "bid_id": "bidding.Bid",
    "charge_id": "payments.Charge",
    "contract_id": "contracts.Contract",
    "credential_id": "experts.Credential",
    "delivery_id": "integrations.Delivery",
    "endpoint_id": "integrations.WebhookEndpoint",
    "entry_id": "experts.RosterEntry",
    "exception_id": "payments.ReconciliationException",
    "expert_id": "experts.ExpertProfile",
    "flag_id": "experts.CredentialFlag",
    "guideline_id": "projects.GuidelineVersion",
    "invitation_id": "accounts.Invitation",
    "key_id": "accounts.ApiKey",
    "member_id": "accounts.Membership",
    "notification_id": "notifications.Notification",
    "org_id": "accounts.Organization",
    "project_id": "projects.Project",
    "qualification_id": "assessments.Qualification",
    "question_id": "bidding.Question",
    "round_id": "assessments.CalibrationRound",
    "run_id": "payments.PayoutRun",
    "scoring_run_id": "quality.ScoringRun",
    "task_id": "assessments.GradingTask",
    "test_id": "assessments.Test",
    "version_id": "contracts.ContractVersion",
}
PROBABILITY = 0.6
PER_KIND = 40


class Command(BaseCommand):
    help = "Print a schemathesis.toml binding path parameters to the public ids of the demo's objects."

    def handle(self, *args, **options):
        if settings.SETTINGS_MODULE.endswith(".production"):
            raise CommandError("Refusing to export ids for fuzzing under the production settings.")
        dictionaries, bindings = [], []
        for parameter, label in sorted(PATH_PARAMETERS.items()):
            model = apps.get_model(label)
            ids = [
                str(value)
                for value in model._default_manager.order_by("pk").values_list("public_id", flat=True)[:PER_KIND]
            ]
            if not ids:  # a dictionary needs values; this parameter stays random
                continue
            dictionaries.append(f"[dictionaries.{parameter}]\nvalues = {json.dumps(ids)}\n")
            bindings.append(f'"path.{parameter}" = {{ dictionary = "{parameter}", probability = {PROBABILITY} }}')
        self.stdout.write("\n".join(dictionaries))
        self.stdout.write("[parameters]\n" + "\n".join(bindings) + "\n")
