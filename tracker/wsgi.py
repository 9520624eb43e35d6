"""WSGI entry point (gunicorn tracker.wsgi)."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

# A worker's first requests fill the caches that live as long as the process (compiled templates and queries,
# URL patterns, the configuration): it is frozen again after them, at these counts of requests served.
FREEZE_AFTER = (1, 10, 100, 1000)


class FreezeWarmHeap:
    """Keeps what lives as long as the process out of the cyclic collector's sight. Without it every full
    collection scans those objects again (pauses of 50-250 ms under load, in the page's tail), and the
    collections of the younger generations find them among their survivors.

    `gc.freeze()` moves every tracked object to a generation the collector never scans; reference counting
    still frees them. What a request leaves in reference cycles at a freeze is never collected: a few thousand
    objects, at most len(FREEZE_AFTER) times per process."""

    def __init__(self, app, after=FREEZE_AFTER):
        self.app, self.after, self.served = app, frozenset(after), 0

    def __call__(self, environ, start_response):
        response = self.app(environ, start_response)
        self.served += 1
        if self.served in self.after:
            gc.freeze()
        return response


application = FreezeWarmHeap(get_wsgi_application())
gc.freeze()  # what start-up imported
