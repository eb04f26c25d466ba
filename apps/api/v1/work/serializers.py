"""v1 representations of delivered work: gold items (the lab's only), work batches with their
review, judgments, appeals and the batch datasheet.

Who sees what is decided by the work selectors (gold items to the lab that owns the project;
batches, judgments and appeals to the contract's two parties; the appeal queue to platform
operations) and carried here by explicit field lists:

- Nothing outside the gold endpoints carries a gold answer or marks which items are gold: a
  judgment is the annotator's label only.
- A judgment's annotator is known to the lab by pseudonymous ``annotator_handle`` only; the supplier
  also gets ``annotator_id`` (the expert id it uploaded).
- A supplier of kind ``individual`` is named after the person: its ``name`` is null (as in bidding).
"""

from __future__ import annotations

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.fields import StatusField
from apps.api.rows import RowSource, render_date, render_datetime
from apps.api.serializers import InputSerializer
from apps.api.v1.experts.fields import NamedChoiceField
from apps.api.v1.projects.serializers import (
    BlankAsNullStatusField,
    LabSerializer,
    SupplierSerializer,
    supplier_representation,
)
from apps.contracts.models import Contract
from apps.work import ingest
from apps.work.models import Appeal, GoldItem, Judgment, RejectionReason, WorkBatch
from apps.work.services import APPEAL_OUTCOMES, appeal_deadline

B = WorkBatch.Status
# Batches a rejection applies to, and so an appeal deadline.
REJECTION_STATES = (B.REJECTED, B.APPEALED, B.UPHELD, B.OVERTURNED)
FORMAT_CHOICES = [("jsonl", "JSON Lines"), ("csv", "CSV")]
ORDER_TEXT = {Judgment.Order.A_FIRST: "AB", Judgment.Order.B_FIRST: "BA"}


def _batch_status(**kwargs) -> StatusField:
    return StatusField(choices=B.choices, enum_name="BatchStatus", **kwargs)


def _rejection_reason(**kwargs) -> BlankAsNullStatusField:
    return BlankAsNullStatusField(choices=RejectionReason.choices, enum_name="RejectionReason", **kwargs)


def _format_field(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(choices=FORMAT_CHOICES, enum_name="UploadFormat", **kwargs)


class _RefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)


class _ProjectRefSerializer(_RefSerializer):
    title = serializers.CharField(read_only=True)


# --- gold ------------------------------------------------------------------------------------------------


class GoldItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoldItem
        fields = ["item_id", "answer", "created_at", "updated_at"]
        read_only_fields = fields


class GoldItemInputSerializer(serializers.Serializer):
    """One gold item of a JSON upload (documentation: the rows are checked by the service, which
    names each bad row by its position, 1 for the first)."""

    item_id = serializers.CharField(max_length=ingest.MAX_ITEM_ID)
    answer = serializers.CharField(max_length=200, help_text="One of the label set of the project's contracts.")


class GoldFileUploadSerializer(InputSerializer):
    file = serializers.FileField(
        help_text='JSON Lines (one `{"item_id", "answer"}` object a line) or CSV with the header '
        "`item_id,answer`, UTF-8."
    )
    format = _format_field(
        required=False,
        help_text="Default: from the file's content type (`application/jsonl`, `application/x-ndjson`, `text/csv`) "
        "or its name (`.jsonl`, `.ndjson`, `.csv`).",
    )


class GoldUploadResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(read_only=True, help_text="Items new to the project's gold set.")
    updated = serializers.IntegerField(read_only=True, help_text="Items already there that got a new answer.")
    unchanged = serializers.IntegerField(read_only=True, help_text="Items already there with the same answer.")


# --- batches ---------------------------------------------------------------------------------------------


class AppealSummarySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = StatusField(choices=Appeal.Status.choices, enum_name="AppealStatus")
    opened_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Appeal
        fields = ["id", "status", "reason", "decision_reason", "opened_at", "decided_at"]
        read_only_fields = fields


class BatchSerializer(serializers.ModelSerializer):
    """A work batch as either party sees it: the delivery, its counts and its review."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    contract = _RefSerializer(read_only=True)
    project = _ProjectRefSerializer(source="contract.project", read_only=True)
    lab = LabSerializer(source="contract.lab", read_only=True)
    supplier = SupplierSerializer(source="contract.supplier", read_only=True)
    status = _batch_status()
    contract_version = serializers.IntegerField(
        source="contract_version.number",
        read_only=True,
        help_text="The number of the contract's terms in force at submission: their label set decodes the "
        "judgments, their windows time the review and the appeal.",
    )
    guideline_version = serializers.IntegerField(
        source="guideline_version.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The project's guideline version in force at submission; null if there was none.",
    )
    unit_count = serializers.IntegerField(read_only=True, help_text="Units the supplier claims for the batch.")
    judgment_count = serializers.IntegerField(read_only=True, help_text="Judgments (rows) stored.")
    accepted_units = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Set once accepted (in whole, in part or on appeal)."
    )
    rejection_reason = _rejection_reason(help_text="For a rejection or partial acceptance; null otherwise.")
    review_evidence = serializers.CharField(read_only=True, help_text="The lab's written evidence; empty if none.")
    submitted_at = serializers.DateTimeField(source="created_at", read_only=True)
    review_due_at = serializers.DateTimeField(
        read_only=True, help_text="Unreviewed by then, the batch is accepted automatically (`auto_accepted`)."
    )
    appeal_due_at = serializers.SerializerMethodField(
        help_text="Once the batch was rejected (also under appeal and after the decision): the supplier may appeal "
        "until then. Null otherwise."
    )
    appeal = serializers.SerializerMethodField(help_text="The supplier's appeal of a rejection, if any.")

    class Meta:
        model = WorkBatch
        fields = [
            "id",
            "contract",
            "project",
            "lab",
            "supplier",
            "client_batch_key",
            "period_start",
            "period_end",
            "unit_count",
            "judgment_count",
            "content_sha256",
            "contract_version",
            "guideline_version",
            "status",
            "accepted_units",
            "rejection_reason",
            "review_evidence",
            "reviewed_at",
            "auto_accepted",
            "submitted_at",
            "review_due_at",
            "appeal_due_at",
            "appeal",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_appeal_due_at(self, obj):
        if obj.status not in REJECTION_STATES:
            return None
        deadline = appeal_deadline(obj)
        return serializers.DateTimeField().to_representation(deadline) if deadline else None

    @extend_schema_field(AppealSummarySerializer(allow_null=True))
    def get_appeal(self, obj):
        try:
            appeal = obj.appeal
        except Appeal.DoesNotExist:
            return None
        return AppealSummarySerializer(appeal).data


def _contract_parties(contract: Contract) -> tuple[dict, dict, dict, dict]:
    """A batch's ``contract``, ``project``, ``lab`` and ``supplier`` as ``BatchSerializer`` renders them."""
    project, lab = contract.project, contract.lab
    return (
        {"id": str(contract.public_id)},
        {"id": str(project.public_id), "title": project.title},
        {"id": str(lab.public_id), "name": lab.name},
        supplier_representation(contract.supplier),
    )


class BatchRows(RowSource):
    """``BatchSerializer``'s output for a list page, from ``.values()`` rows (``apps/api/rows.py``).

    The contract version (its number and appeal window), the guideline version and the appeal (the
    reverse one-to-one) are joined in the list query. The contract's parties are not: a page lists one
    contract's batches, and context ``contract`` (that contract, read with its project, lab and supplier
    to scope the list) renders them once per page. Joining the project and both organisations too took
    the query's planning time on PostgreSQL from ~0.4 ms to ~7 ms. Without ``contract`` in the context,
    one keyed query reads the page's contracts. No other context: both parties see the same."""

    model = WorkBatch
    fields = (
        "id", "public_id", "contract_id", "client_batch_key", "period_start", "period_end", "unit_count",
        "judgment_count", "content_sha256", "contract_version__number", "contract_version__appeal_window_days",
        "guideline_version__number", "status", "accepted_units", "rejection_reason", "review_evidence",
        "reviewed_at", "auto_accepted", "created_at", "review_due_at", "updated_at", "appeal__public_id",
        "appeal__status", "appeal__reason", "appeal__decision_reason", "appeal__created_at", "appeal__decided_at",
    )  # fmt: skip

    def prefetch(self, rows, context):
        contract = context.get("contract")
        if contract is not None:
            parties = {contract.pk: _contract_parties(contract)}
        else:
            contracts = Contract.objects.select_related("project", "lab", "supplier").in_bulk(
                {row["contract_id"] for row in rows}
            )
            parties = {pk: _contract_parties(c) for pk, c in contracts.items()}
        for row in rows:
            row["parties"] = parties[row["contract_id"]]

    def render(self, row, context):
        tz = context["tz"]
        reviewed_at = row["reviewed_at"]
        appeal_due_at = (
            reviewed_at + timedelta(days=row["contract_version__appeal_window_days"])
            if reviewed_at is not None and row["status"] in REJECTION_STATES
            else None
        )
        contract, project, lab, supplier = row["parties"]
        return {
            "id": str(row["public_id"]),
            "contract": contract,
            "project": project,
            "lab": lab,
            "supplier": supplier,
            "client_batch_key": row["client_batch_key"],
            "period_start": render_date(row["period_start"]),
            "period_end": render_date(row["period_end"]),
            "unit_count": row["unit_count"],
            "judgment_count": row["judgment_count"],
            "content_sha256": row["content_sha256"],
            "contract_version": row["contract_version__number"],
            "guideline_version": row["guideline_version__number"],
            "status": row["status"],
            "accepted_units": row["accepted_units"],
            "rejection_reason": row["rejection_reason"] or None,
            "review_evidence": row["review_evidence"],
            "reviewed_at": render_datetime(reviewed_at, tz),
            "auto_accepted": row["auto_accepted"],
            "submitted_at": render_datetime(row["created_at"], tz),
            "review_due_at": render_datetime(row["review_due_at"], tz),
            "appeal_due_at": render_datetime(appeal_due_at, tz),
            "appeal": None
            if row["appeal__public_id"] is None
            else {
                "id": str(row["appeal__public_id"]),
                "status": row["appeal__status"],
                "reason": row["appeal__reason"],
                "decision_reason": row["appeal__decision_reason"],
                "opened_at": render_datetime(row["appeal__created_at"], tz),
                "decided_at": render_datetime(row["appeal__decided_at"], tz),
            },
            "updated_at": render_datetime(row["updated_at"], tz),
        }


class BatchUploadSerializer(InputSerializer):
    file = serializers.FileField(
        help_text="The judgments: JSON Lines (one object a line) or CSV with a header row, UTF-8. Fields: "
        "`item_id`, `annotator` (the expert's id; an active assignee of the contract), `label` (or `value`; one of "
        "the contract's label set), `displayed_order` (`AB` or `BA`; required for preference comparisons), "
        "`started_at` (ISO 8601 with an offset), `seconds_spent`, `comment`."
    )
    client_batch_key = serializers.CharField(
        max_length=200, help_text="Your key for this delivery: a retry with the same key and content is a no-op."
    )
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    unit_count = serializers.IntegerField(
        min_value=1, max_value=ingest.MAX_SECONDS, help_text="Units claimed; counts against the volume cap."
    )
    format = _format_field(
        required=False,
        help_text="Default: from the file's content type (`application/jsonl`, `application/x-ndjson`, `text/csv`) "
        "or its name (`.jsonl`, `.ndjson`, `.csv`).",
    )


class RowErrorSerializer(serializers.Serializer):
    """Documentation of ``details.rows`` in a refused upload."""

    row = serializers.IntegerField(help_text="JSONL: the line number; CSV: the record number, the header being 1.")
    field = serializers.CharField(allow_null=True, help_text="The offending field; null for the whole row.")
    reason = serializers.CharField()


# --- judgments ---------------------------------------------------------------------------------------------


class JudgmentSerializer(serializers.ModelSerializer):
    """One judgment (context ``labels``: the batch's label set; ``supplier_view``)."""

    annotator_handle = serializers.CharField(read_only=True, allow_null=True, help_text="Pseudonymous.")
    annotator_id = serializers.SerializerMethodField(
        help_text="The expert's id as uploaded: the supplier only (null for the lab)."
    )
    label = serializers.SerializerMethodField(help_text="The label's text, from the contract version's label set.")
    displayed_order = serializers.SerializerMethodField(help_text="`AB` or `BA`: which option was shown first.")

    class Meta:
        model = Judgment
        fields = [
            "item_id",
            "annotator_handle",
            "annotator_id",
            "label",
            "displayed_order",
            "started_at",
            "seconds_spent",
            "comment",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_annotator_id(self, obj):
        return str(obj.annotator_public_id) if self.context.get("supplier_view") else None

    def get_label(self, obj) -> str:
        return str(self.context["labels"][obj.label])

    @extend_schema_field(serializers.ChoiceField(choices=["AB", "BA"], allow_null=True))
    def get_displayed_order(self, obj):
        return ORDER_TEXT.get(obj.displayed_order)


# --- appeals ------------------------------------------------------------------------------------------------


class AppealBatchSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = _batch_status()
    rejection_reason = _rejection_reason()

    class Meta:
        model = WorkBatch
        fields = [
            "id",
            "status",
            "period_start",
            "period_end",
            "unit_count",
            "judgment_count",
            "rejection_reason",
            "review_evidence",
            "reviewed_at",
        ]
        read_only_fields = fields


class AppealSerializer(AppealSummarySerializer):
    batch = AppealBatchSerializer(read_only=True)
    contract = _RefSerializer(source="batch.contract", read_only=True)
    project = _ProjectRefSerializer(source="batch.contract.project", read_only=True)
    lab = LabSerializer(source="batch.contract.lab", read_only=True)
    supplier = SupplierSerializer(source="batch.contract.supplier", read_only=True)

    class Meta(AppealSummarySerializer.Meta):
        fields = ["id", "batch", "contract", "project", "lab", "supplier", *AppealSummarySerializer.Meta.fields[1:]]
        read_only_fields = fields


# --- input: review and appeals ------------------------------------------------------------------------------


class BatchPartialAcceptSerializer(InputSerializer):
    accepted_units = serializers.IntegerField(help_text="More than 0 and fewer than the batch's `unit_count`.")
    reason = NamedChoiceField(choices=RejectionReason.choices, enum_name="RejectionReason")
    evidence = serializers.CharField(max_length=5000, help_text="What was wrong with the refused units.")


class BatchRejectSerializer(InputSerializer):
    reason = NamedChoiceField(choices=RejectionReason.choices, enum_name="RejectionReason")
    evidence = serializers.CharField(max_length=5000, help_text="What was wrong; the supplier reads it.")


class AppealOpenSerializer(InputSerializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the rejection is wrong; operations decide.")


class AppealDecideSerializer(InputSerializer):
    outcome = NamedChoiceField(
        choices=[(o, o) for o in APPEAL_OUTCOMES],
        enum_name="AppealOutcome",
        help_text="`overturn`: the batch counts as accepted, every unit; `uphold`: the rejection stands.",
    )
    reason = serializers.CharField(max_length=5000, help_text="Both sides read it.")


class AppealQuerySerializer(serializers.Serializer):
    status = NamedChoiceField(
        choices=Appeal.Status.choices,
        enum_name="AppealStatus",
        required=False,
        help_text="Operations: default `open` (the queue). The parties: default every status.",
    )


# --- the datasheet (documentation of the JSON form) ------------------------------------------------------


class CredentialMixSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    annotators = serializers.IntegerField()
    judgments = serializers.IntegerField()


class GuidelineVersionCountSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text="Null: no version acknowledged.")
    judgments = serializers.IntegerField()


class DatasheetQualificationSerializer(serializers.Serializer):
    test = serializers.CharField()
    version = serializers.IntegerField()
    score = serializers.CharField()
    granted_at = serializers.DateField()
    expires_at = serializers.DateField()


class DatasheetAnnotatorSerializer(serializers.Serializer):
    annotator = serializers.CharField(help_text="The annotator's pseudonymous handle.")
    credential_types = serializers.ListField(child=serializers.CharField())
    guideline_version = serializers.IntegerField(allow_null=True)
    judgments = serializers.IntegerField()
    seconds_spent = serializers.IntegerField()
    qualifications = DatasheetQualificationSerializer(many=True)
    measured_accuracy = serializers.FloatField(allow_null=True, help_text="Accuracy on the lab's reference items.")
    measured_accuracy_lower = serializers.FloatField(allow_null=True)
    measured_accuracy_upper = serializers.FloatField(allow_null=True)
    measured_answers = serializers.IntegerField(allow_null=True)
    agreement_loo = serializers.FloatField(
        allow_null=True, help_text="Agreement with co-annotators, own vote excluded."
    )
    scored_at = serializers.DateTimeField(allow_null=True)


class DatasheetSummarySerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    contract = serializers.UUIDField()
    project = serializers.CharField(help_text="The project's title.")
    lab = serializers.CharField()
    supplier = serializers.CharField(help_text="The supplier's name, or a label for an independent expert.")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    submitted_at = serializers.DateTimeField()
    content_sha256 = serializers.CharField()
    guideline_version_at_submission = serializers.IntegerField(allow_null=True)
    review_outcome = _batch_status()
    review_outcome_label = serializers.CharField()
    auto_accepted = serializers.BooleanField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    unit_count = serializers.IntegerField()
    accepted_units = serializers.IntegerField(allow_null=True)
    judgment_count = serializers.IntegerField()
    item_count = serializers.IntegerField()
    annotator_count = serializers.IntegerField()
    seconds_spent_total = serializers.IntegerField()
    judgments_with_time = serializers.IntegerField()
    credential_mix = CredentialMixSerializer(many=True)
    annotators_without_verified_credential = serializers.IntegerField()
    guideline_versions_acknowledged = GuidelineVersionCountSerializer(many=True)
    generated_at = serializers.DateTimeField()
    quality_scored = serializers.BooleanField(
        required=False, help_text="Present once the quality engine runs: whether any annotator has scores yet."
    )
    consensus_included = serializers.BooleanField(
        required=False, help_text="Whether the rows carry consensus columns (the lab only, after a full scoring run)."
    )
    annotators = DatasheetAnnotatorSerializer(
        many=True, required=False, help_text="Per annotator: qualifications held at submission and quality scores."
    )


class DatasheetRowSerializer(serializers.Serializer):
    item_id = serializers.CharField()
    annotator = serializers.CharField(help_text="The annotator's pseudonymous handle.")
    credential_types = serializers.ListField(
        child=serializers.CharField(), help_text="Verified, unexpired credential types when generated."
    )
    guideline_version = serializers.IntegerField(
        allow_null=True, help_text="The highest version the annotator acknowledged by the submission."
    )
    started_at = serializers.DateTimeField(allow_null=True)
    seconds_spent = serializers.IntegerField(allow_null=True)
    review_outcome = _batch_status()
    consensus_label = serializers.CharField(
        required=False, allow_null=True, help_text="Lab only: the item's consensus label (null when tied)."
    )
    consensus_confidence = serializers.FloatField(required=False, allow_null=True)
    consensus_tie = serializers.BooleanField(
        required=False, allow_null=True, help_text="Null, like the other consensus columns, on the lab's gold items."
    )
    consensus_disagreement = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Experts genuinely disagree on the item: kept apart from consensus. Null on gold items.",
    )


class DatasheetSerializer(serializers.Serializer):
    batch = DatasheetSummarySerializer()
    rows = DatasheetRowSerializer(many=True, help_text="One per judgment, in upload order.")
