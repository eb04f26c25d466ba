"""Bidding reuses the projects fixtures."""

from tests.projects.conftest import (  # noqa: F401
    domains,
    draft,
    independent,
    individual,
    media_root,
    open_project,
    rival,
    team,
)
