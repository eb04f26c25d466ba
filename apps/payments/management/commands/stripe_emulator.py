"""``manage.py stripe_emulator [--port 12111]``: run the local Stripe emulator in the foreground.

Listens on 127.0.0.1 only. Unless ``--no-settings-webhooks``, it signs and delivers events to this site's webhook
views: ``<SITE_URL>/webhooks/stripe/platform/`` with STRIPE_WEBHOOK_SECRET and ``.../connect/`` with
STRIPE_CONNECT_WEBHOOK_SECRET. The first line printed is ``Stripe emulator listening on <url>``.
Stops on Ctrl-C or SIGTERM (``make run`` stops it when runserver exits). See docs/stripe-emulator.md.
"""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.payments.emulator import EmulatorServer


class Command(BaseCommand):
    help = "Run the local Stripe emulator (test mode, loopback only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=settings.STRIPE_EMULATOR_PORT, help="0 picks a free port")
        parser.add_argument("--platform-webhook-url", default=f"{settings.SITE_URL}/webhooks/stripe/platform/")
        parser.add_argument("--connect-webhook-url", default=f"{settings.SITE_URL}/webhooks/stripe/connect/")
        parser.add_argument(
            "--no-settings-webhooks", action="store_true", help="start without webhook endpoints (add them later)"
        )

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        try:
            server = EmulatorServer(port)
        except OSError as exc:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {exc}") from exc
        if not options["no_settings_webhooks"]:
            endpoints = [
                (options["platform_webhook_url"], settings.STRIPE_WEBHOOK_SECRET, False),
                (options["connect_webhook_url"], settings.STRIPE_CONNECT_WEBHOOK_SECRET, True),
            ]
            for url, secret, connect in endpoints:
                if secret:
                    server.deliverer.add_endpoint(url, secret, connect=connect)
        self.stdout.write(f"Stripe emulator listening on {server.base_url}")
        self.stdout.flush()
        for endpoint in server.deliverer.endpoints:
            kind = "connect" if endpoint.connect else "platform"
            self.stdout.write(f"  {kind} webhooks -> {endpoint.url}")

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            self.stdout.write("Stripe emulator stopped.")
