from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from matching import extensions, tasks
        from matching.signals import run_queued

        run_queued.connect(tasks.run_queued_dispatch, dispatch_uid="matching.run_queued_dispatch")
        extensions.connect()
