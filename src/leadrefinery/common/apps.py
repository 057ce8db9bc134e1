from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "leadrefinery.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_execute

        from . import config, logs

        config.connect_signals()
        pre_execute.connect(logs.job_started, dispatch_uid="refinery-log-job-started")
        post_execute_in_worker.connect(logs.job_finished, dispatch_uid="refinery-log-job-done")
