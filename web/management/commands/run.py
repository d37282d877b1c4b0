from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as RunServer

from config.beat import EmbeddedBeat, embedded_beat_wanted


class Command(RunServer):
    help = (
        "The embedded default (`make run`): the development server, and, when tasks run "
        "eagerly (no REDIS_URL), the periodic sweeps of the beat schedule in process."
    )

    def inner_run(self, *args: Any, **options: Any) -> None:
        # inner_run is the serving process (not the autoreloader's watcher): one beat.
        if embedded_beat_wanted():
            EmbeddedBeat().start()
            self.stdout.write("Periodic tasks (holds, payments, messages…) run in process.")
        super().inner_run(*args, **options)
