"""The WSGI entry point freezes the worker's heap after its first requests, and changes nothing else."""
import gc

from tracker.wsgi import FREEZE_AFTER, FreezeWarmHeap, application


def test_the_heap_is_frozen_after_the_counted_requests_only():
    served = []

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        gc.unfreeze()  # so each freeze below shows as objects moving into the permanent generation
        return [b"ok"]

    wrapped = FreezeWarmHeap(app, after=(1, 3))
    frozen_after = []
    try:
        for n in range(1, 6):
            assert wrapped({"PATH_INFO": f"/{n}"}, None) == [b"ok"]
            frozen_after.append(gc.get_freeze_count() > 0)
    finally:
        gc.unfreeze()
    assert served == ["/1", "/2", "/3", "/4", "/5"]
    assert frozen_after == [True, False, True, False, False]


def test_the_served_application_is_wrapped_with_the_default_counts():
    assert isinstance(application, FreezeWarmHeap)
    assert application.after == frozenset(FREEZE_AFTER)
