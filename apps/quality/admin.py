"""Read-only admin for quality results: snapshots are append-only, runs and alerts change only
through the services."""

from django.contrib import admin

from .models import AuditFlag, ConsensusSnapshot, ScoreSnapshot, ScoringRun, SlaAlert


class _ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScoringRun)
class ScoringRunAdmin(_ReadOnly):
    list_display = ("created_at", "kind", "scope", "contract", "status", "progress", "n_judgments", "error")
    list_filter = ("kind", "status", "trigger")


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(_ReadOnly):
    list_display = ("created_at", "subject_kind", "contract", "expert", "batch", "n_gold", "gold_accuracy", "alpha")
    list_filter = ("subject_kind", "incremental")
    list_select_related = ("contract", "expert", "batch")


@admin.register(ConsensusSnapshot)
class ConsensusSnapshotAdmin(_ReadOnly):
    list_display = ("created_at", "contract", "method", "n_items", "n_ties", "n_disagreement")
    # The arrays blob is not shown (megabytes of binary); the export endpoint decodes it.
    fields = (
        "public_id", "created_at", "run", "contract", "algorithm_version", "method", "label_set",
        "n_items", "n_ties", "n_disagreement",
    )  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.fields


@admin.register(AuditFlag)
class AuditFlagAdmin(_ReadOnly):
    list_display = ("created_at", "contract", "kind", "subject_kind", "expert", "n", "q", "flagged")
    list_filter = ("kind", "flagged")


@admin.register(SlaAlert)
class SlaAlertAdmin(_ReadOnly):
    list_display = ("created_at", "contract", "metric", "threshold", "measured", "lower", "upper", "status")
    list_filter = ("status", "metric")
