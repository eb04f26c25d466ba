from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "apps.assessments"
    label = "assessments"
    verbose_name = "Qualification and calibration tests"

    def ready(self) -> None:
        from apps.experts import search_filters

        from . import selectors

        search_filters.register(
            search_filters.SearchFilter(
                name="qualification",
                label="Qualification",
                choices=selectors.qualification_filter_choices,
                user_ids=selectors.qualified_user_ids_for_test,
            )
        )
