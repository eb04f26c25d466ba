"""``Authorization: Bearer <api key>`` for programs. Browsers use the session instead.

A verified key is kept in a small per-process cache for ``API_KEY_CACHE_SECONDS`` (default 5; 0
turns it off): a client sending many requests then costs no authentication query at all (docs/api.md,
"Performance"). Only successful lookups are cached, by the key's hash; any save of an API key or a
user clears this process's cache, and other processes see a revocation or a deactivation within the
cache lifetime. Expiry is checked on every request.
"""

import copy
import threading
import time

from django.conf import settings
from django.db.models.signals import post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.models import ApiKey, User, hash_secret
from apps.accounts.services import api_key_verify

_CACHE_MAX = 1024
_cache: dict[str, tuple[float, ApiKey]] = {}
_cache_lock = threading.Lock()


def verify_cached(raw: str) -> ApiKey | None:
    """``api_key_verify`` behind the per-process cache of verified keys."""
    ttl = getattr(settings, "API_KEY_CACHE_SECONDS", 0)
    if ttl <= 0:
        return api_key_verify(raw)
    digest = hash_secret(raw)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[0] > now:
        return _fresh(hit[1])
    key = api_key_verify(raw)
    if key is not None:
        with _cache_lock:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[digest] = (now + ttl, _fresh(key))
    return key


def _fresh(key: ApiKey) -> ApiKey:
    """A copy of the key, its organisation and its creator: what one request memoises on them (e.g. the
    user's memberships, ``apps/accounts/policies.py``) never reaches the next request."""
    clone = copy.copy(key)
    clone.organization = copy.copy(key.organization)
    clone.created_by = copy.copy(key.created_by)
    return clone


def clear_key_cache(**_kwargs) -> None:
    with _cache_lock:
        _cache.clear()


post_save.connect(clear_key_cache, sender=ApiKey, dispatch_uid="api_key_cache_apikey")
post_save.connect(clear_key_cache, sender=User, dispatch_uid="api_key_cache_user")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates as the key's creator, acting only for the key's organisation (``request.auth``)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header; use 'Bearer <api key>'.")
        key = verify_cached(parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if key.expires_at is not None and key.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(
                f"This API key expired at {key.expires_at.isoformat()}; create a new one under Organisation "
                "settings > API keys."
            )
        if not key.created_by.is_active:
            raise exceptions.AuthenticationFailed("The API key's owner is deactivated.")
        return (key.created_by, key)

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An organisation API key (created under Organisation settings > API keys), sent as "
                "`Authorization: Bearer hdk_…`. Each key carries scopes; every operation names the one it needs "
                "in `x-required-scope` (a key without it gets 403 `missing_scope`). An expired key gets 401."
            ),
        }
