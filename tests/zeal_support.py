"""django-zeal for the test suite: every request (API, pages, htmx) is checked for N+1 queries.

Why per request and not per test: zeal counts repeated relation loads and `.get()` calls within one
context. A test that calls a service three times in its set-up (three bids, three projects) touches
``revision.team`` on three instances, which zeal cannot tell from a loop; a request is the unit whose
query count must not grow with the data. Each request starts a clean context with no allow-list
(zeal's own middleware would inherit an enclosing context's allow-list). Celery tasks run eagerly in
tests, so a task triggered by a request is checked with it.
"""

from zeal.listeners import NPlusOneContext, _nplusone_context


def per_request_middleware(get_response):
    def middleware(request):
        token = _nplusone_context.set(NPlusOneContext(enabled=True))
        try:
            return get_response(request)
        finally:
            _nplusone_context.reset(token)

    return middleware
