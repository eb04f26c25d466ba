from django.urls import path

from . import views

urlpatterns = [
    path("ledger/entries/", views.JournalEntryListView.as_view(), name="ledger-entries"),
    path("ledger/balances/", views.BalanceListView.as_view(), name="ledger-balances"),
]
