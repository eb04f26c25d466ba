"""The site's URLs plus ``/bench/plain/<list>/``: the same 50 rows as the API's first page of each list
benchmarked by bench/api.py, as a plain Django JsonResponse of ``.values()`` (the baseline): the
model's columns, foreign keys as their public ids (one join each), no authentication, no pagination
object. Mounted only by bench/api_settings.py, never in the real site."""

from django.http import JsonResponse
from django.urls import include, path

from apps.bidding.models import Bid
from apps.contracts.models import Contract
from apps.projects.models import Project
from apps.quality.models import ScoreSnapshot
from apps.work.models import WorkBatch


def _columns(model) -> list[str]:
    """Every concrete column; a foreign key as ``<fk>__public_id`` when its target has one."""
    names = []
    for field in model._meta.concrete_fields:
        if field.name == "id":
            continue
        if field.is_relation:
            target = field.related_model
            has_public_id = any(f.name == "public_id" for f in target._meta.concrete_fields)
            names.append(f"{field.name}__public_id" if has_public_id else field.attname)
        else:
            names.append(field.name)
    return names


def _plain(model, filter_of):
    columns = _columns(model)

    def view(request):
        rows = model.objects.filter(**filter_of(request.GET)).order_by("-created_at", "-id").values(*columns)[:50]
        return JsonResponse({"next": None, "previous": None, "results": list(rows)})

    return view


urlpatterns = [
    path("bench/plain/projects/", _plain(Project, lambda q: {"lab__public_id": q["lab"]})),
    path("bench/plain/bids/", _plain(Bid, lambda q: {"bidder__public_id": q["vendor"]})),
    path("bench/plain/contracts/", _plain(Contract, lambda q: {"lab__public_id": q["lab"]})),
    path("bench/plain/batches/", _plain(WorkBatch, lambda q: {"contract__public_id": q["contract"]})),
    path("bench/plain/scores/", _plain(ScoreSnapshot, lambda q: {"lab__public_id": q["lab"]})),
    path("", include("marketplace.urls")),
]
