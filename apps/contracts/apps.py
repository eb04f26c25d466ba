from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "apps.contracts"
    label = "contracts"
    verbose_name = "Contracts and assignments"

    def ready(self) -> None:
        from apps.bidding.hooks import project_awarded
        from apps.experts.hooks import credential_lapsed
        from apps.projects.hooks import guideline_published

        from . import services

        project_awarded.subscribe(services.on_project_awarded)
        guideline_published.subscribe(services.on_guideline_published)
        credential_lapsed.subscribe(services.on_credential_lapsed)
