"""Read-only admin: the ledger is written by ``services.post`` alone (adjustments on the finance pages)."""

from django.contrib import admin

from .models import JournalEntry, LedgerAccount, Posting


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "currency", "kind", "name", "organization")
    list_filter = ("kind", "currency")
    search_fields = ("code", "name")
    list_select_related = ("organization",)


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ("account", "amount", "currency")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "description", "currency", "source_type", "source_id", "idempotency_key")
    list_filter = ("source_type", "currency")
    search_fields = ("description", "source_id", "idempotency_key")
    readonly_fields = [f.name for f in JournalEntry._meta.fields]
    inlines = [PostingInline]
