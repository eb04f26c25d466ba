from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.models import ApiKey


class CallerRateThrottle(SimpleRateThrottle):
    """One budget per API key (per user for browser sessions, per IP when anonymous).

    DRF throttling is a fairness quota, not brute-force protection (that lives in allauth).
    """

    scope = "caller"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
