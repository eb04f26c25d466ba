from apps.core.hooks import Hook

project_awarded = Hook("project_awarded", "award_create fired it with award=<Award>, actor=<User>, in its transaction.")


class Provider:
    """A function a higher layer supplies (registered in its ``AppConfig.ready()``); None until then."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._function = None

    def register(self, function) -> None:
        self._function = function

    def __call__(self, *args, **kwargs):
        return None if self._function is None else self._function(*args, **kwargs)


quality_history_provider = Provider(
    "quality_history_provider",
    "Called with supplier=<Organization>; returns the supplier's measured gold accuracy across its contracts "
    "as a dict (gold_accuracy, lower, upper as Decimal, n_gold, gold_correct, n_contracts) or None without any.",
)
