"""Platform finance's ledger pages."""

from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("finance/ledger/", views.balances, name="balances"),
    path("finance/ledger/journal/", views.journal, name="journal"),
    path("finance/ledger/entries/<uuid:public_id>/", views.entry_detail, name="entry_detail"),
    path("finance/ledger/adjust/", views.adjust, name="adjust"),
    path("finance/ledger/export/", views.export_page, name="export_page"),
    path("finance/ledger/export.csv", views.export_csv, name="export"),
]
