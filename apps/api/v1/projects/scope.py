"""Which project a Projects or Bidding API caller reaches.

The acting organisation is chosen as for the Workforce API (``apps/api/v1/experts/scope.py``: an API
key acts for its organisation; a session for ``?org=`` or its active organisation). Acting for a
lab, a caller reaches that lab's projects (drafts included); acting for a vendor or an independent
expert, the projects it may see (past draft, and public or inviting it). Anything else is a 404
``project_not_found``, so an uninvited supplier cannot tell an invited-only project from none.

Lab-only operations first check the lab permission on the acting organisation, so a supplier gets
403 ``role_not_allowed`` without the project being looked up at all.
"""

from __future__ import annotations

from apps.accounts.policies import require
from apps.accounts.roles import Perm
from apps.api.v1.experts.views import WorkforceListView, WorkforceView
from apps.projects import selectors
from apps.projects.models import Project


class ProjectScopeMixin:
    """For ``WorkforceView`` subclasses: ``get_project()``, ``get_lab_project()``, ``is_lab_of()``."""

    project_kwarg = "project_id"

    def get_project(self, public_id=None) -> Project:
        """A project the caller may see (the lab's own, or a visible one for a supplier); else 404."""
        if not hasattr(self, "_project") or public_id is not None:
            self._project = selectors.project_get(
                actor=self.actor,
                organization=self.get_acting_organization(),
                public_id=public_id or self.kwargs[self.project_kwarg],
            )
        return self._project

    def get_lab_project(self) -> Project:
        """One of the acting lab's own projects (403 for a supplier, 404 for another lab's)."""
        require(self.actor, self.require_organization(), Perm.PROJECTS_VIEW)
        return self.get_project()

    def get_managed_project(self) -> Project:
        """One of the acting lab's projects, for a caller who may manage it (owners and admins)."""
        project = self.get_lab_project()
        require(self.actor, project.lab, Perm.PROJECTS_MANAGE)
        return project

    def is_lab_of(self, project: Project) -> bool:
        organization = self.get_acting_organization()
        return organization is not None and organization.pk == project.lab_id


class ProjectScopedView(ProjectScopeMixin, WorkforceView):
    pass


class ProjectScopedListView(ProjectScopeMixin, WorkforceListView):
    pass
