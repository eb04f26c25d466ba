"""Payments fixtures: the local Stripe emulator over real HTTP (docs/stripe-emulator.md).

``stripe_emulator``: one emulator per test session (an in-process thread on a free loopback port), reset before
each test, with settings pointed at it. Webhook delivery starts with no endpoints; a test that wants deliveries
adds one (``stripe_emulator.add_webhook_endpoint(url, secret)``), e.g. to ``live_server``.
"""

from __future__ import annotations

import pytest

from apps.payments.emulator import EmulatorHandle, start_emulator


@pytest.fixture(scope="session")
def stripe_emulator_server():
    handle = start_emulator()
    yield handle
    handle.stop()


@pytest.fixture
def stripe_emulator(stripe_emulator_server, settings) -> EmulatorHandle:
    stripe_emulator_server.reset()
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = stripe_emulator_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    return stripe_emulator_server
