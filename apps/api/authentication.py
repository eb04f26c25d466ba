"""``Authorization: Bearer <api key>`` for programs. Browsers use the session instead.

A verified key is kept in a small per-process cache for ``API_KEY_CACHE_SECONDS`` (default 5; 0
turns it off), together with its creator's membership of the key's organisation (what every
permission check of the request asks for): a client sending many requests then costs no
authentication or membership query at all (docs/api.md, "Performance"). Only successful lookups are
cached, by the key's hash; any save of an API key or a user, and any save or deletion of a
membership, clears this process's cache, and other processes see a revocation, a deactivation or a
role change within the cache lifetime. Expiry is checked on every request.
"""

import copy
import threading
import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.accounts.models import ApiKey, Membership, User, hash_secret
from apps.accounts.services import api_key_verify

_CACHE_MAX = 1024
_cache: dict[str, tuple[float, ApiKey, Membership | None]] = {}
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
        return _fresh(hit[1], hit[2])
    key = api_key_verify(raw)
    if key is not None:
        membership = Membership.objects.filter(user_id=key.created_by_id, organization_id=key.organization_id).first()
        with _cache_lock:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[digest] = (now + ttl, _fresh(key, membership), membership)
        key = _fresh(key, membership)
    return key


def _fresh(key: ApiKey, membership: Membership | None) -> ApiKey:
    """A copy of the key, its organisation and its creator, the creator's membership of the organisation
    already known (``apps/accounts/policies.py`` memoises memberships on the user): what one request
    memoises on them never reaches the next request."""
    clone = copy.copy(key)
    clone.organization = copy.copy(key.organization)
    clone.created_by = user = copy.copy(key.created_by)
    if membership is not None:
        membership = copy.copy(membership)
        membership.organization = clone.organization
        membership.user = user
    user._membership_cache = {clone.organization.pk: membership}
    return clone


def clear_key_cache(**_kwargs) -> None:
    with _cache_lock:
        _cache.clear()


post_save.connect(clear_key_cache, sender=ApiKey, dispatch_uid="api_key_cache_apikey")
post_save.connect(clear_key_cache, sender=User, dispatch_uid="api_key_cache_user")
post_save.connect(clear_key_cache, sender=Membership, dispatch_uid="api_key_cache_membership")
post_delete.connect(clear_key_cache, sender=Membership, dispatch_uid="api_key_cache_membership_delete")
post_delete.connect(clear_key_cache, sender=ApiKey, dispatch_uid="api_key_cache_apikey_delete")


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
