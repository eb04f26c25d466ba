"""Expertise reference data. Expert profiles, credentials and rosters arrive with the Workforce issue."""

from django.db import models

from apps.core.models import BaseModel


class DomainManager(models.Manager):
    def get_by_natural_key(self, slug: str):
        return self.get(slug=slug)


class Domain(BaseModel):
    """A node of the expertise taxonomy (medicine > radiology). ``path`` makes sub-tree queries cheap:
    a domain matches itself and every domain whose path starts with its path plus '/'."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=400, unique=True, help_text="Slash-separated slugs from the root.")

    objects = DomainManager()

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def depth(self) -> int:
        return self.path.count("/")
