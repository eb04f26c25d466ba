"""v1 Ledger endpoints: journal entries with their postings, and account balances.

Platform finance only, with a browser session (with an API key staff powers are dropped, as for
operations): anyone else gets 404, as if nothing were there. Read-only: entries are written by the
payments flows and by finance's adjusting entries (the finance pages, ``/finance/ledger/adjust/``).
The CSV export of journal entries is a finance page (``/finance/ledger/export.csv``), streamed.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.api.pagination import CursorPagination
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.ledger import selectors
from apps.ledger.models import JournalEntry

from .serializers import BalanceQuerySerializer, BalanceSheetSerializer, EntryQuerySerializer, JournalEntrySerializer

TAGS = ["ledger"]


class EntryCursorPagination(CursorPagination):
    """Newest business time first; the id breaks ties so cursors stay stable."""

    ordering = ("-occurred_at", "-id")


class JournalEntryListView(WorkforceListView):
    serializer_class = JournalEntrySerializer
    pagination_class = EntryCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return JournalEntry.objects.none()
        params = self.query(EntryQuerySerializer)
        return selectors.entry_list_for_finance(actor=self.actor, **params)

    @extend_schema(
        summary="Finance: journal entries with their postings",
        description=(
            "Platform finance only, with a browser session (anyone else, and any API key: 404). Newest first by "
            "`occurred_at`. Filters: `account` (entries with a posting on that exact code), `currency`, "
            "`source_type`, `source_id`, and the inclusive UTC days `occurred_from` / `occurred_to`. Each posting's "
            "amount is signed: a debit is positive, a credit negative; every entry sums to zero per currency."
        ),
        parameters=[EntryQuerySerializer],
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class BalanceListView(WorkforceView):
    @extend_schema(
        summary="Finance: the balance of every ledger account",
        description=(
            "Platform finance only, with a browser session (anyone else, and any API key: 404). One row per account "
            "and currency, assets first, then liabilities, equity, revenue and expenses. `balance` is the SQL sum of "
            "the account's postings (debit-positive); `natural_balance` is signed by the account's normal side. "
            "`needs_attention` marks a clearing account (lab receivable, payee payable) that does not stand at zero. "
            "`as_of` counts entries that occurred by the end of that day (UTC). Not paginated."
        ),
        parameters=[BalanceQuerySerializer],
        responses=BalanceSheetSerializer,
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        params = self.query(BalanceQuerySerializer)
        rows = selectors.balance_list_for_finance(actor=self.actor, **params)
        return Response(BalanceSheetSerializer({"as_of": params.get("as_of"), "balances": rows}).data)
