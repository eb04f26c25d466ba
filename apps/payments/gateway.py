"""The Stripe gateway: the only module in the project that imports ``stripe``.

Every function takes and returns plain values: amounts in integer minor units, ids as strings and frozen
dataclasses instead of ``StripeObject`` (which is not a dict in stripe-python 16). Every POST takes a required,
deterministic ``idempotency_key`` so that a retry after a crash or a lost response replays the first result
instead of creating a second object. Failures surface as ``GatewayError`` subclasses, never as stripe exceptions:
``CardDeclined``, ``InvalidRequest`` (our mistake, do not retry) and ``GatewayUnavailable`` (network, timeout, 5xx:
retry with the same key).

The client is built lazily from settings (``STRIPE_SECRET_KEY``, ``STRIPE_API_BASE``, ``STRIPE_TIMEOUT_SECONDS``,
``STRIPE_MAX_NETWORK_RETRIES``), so tests that override settings get a client pointed at the local emulator.
Parameters are typed with stripe's own TypedDicts and checked by mypy in CI (a misspelled parameter fails the build).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from stripe.params import (
    AccountCreateParams,
    AccountLinkCreateParams,
    BalanceTransactionListParams,
    ChargeListParams,
    ChargeListParamsCreated,
    CustomerCreateParams,
    EventListParams,
    InvoiceCreateParams,
    InvoiceFinalizeInvoiceParams,
    InvoiceItemCreateParams,
    InvoiceRetrieveParams,
    PaymentIntentCreateParams,
    PayoutListParams,
    RefundCreateParams,
    TransferCreateParams,
    TransferListParams,
    TransferListParamsCreated,
    TransferReversalCreateParams,
)

# The API version stripe-python 16.1.0 pins; webhook endpoints must be created with the same version so that
# event payloads have the shapes the library's types describe.
STRIPE_API_VERSION = "2026-10-28.endive"
# The key sent to the local emulator when no STRIPE_SECRET_KEY is configured (the emulator accepts any sk_test_ key).
EMULATOR_API_KEY = "sk_test_emulator"
WEBHOOK_TOLERANCE_SECONDS = 300
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

type Metadata = Mapping[str, str]
type Timestamp = datetime | int


# --- Errors ------------------------------------------------------------------------------------------------------


class GatewayError(Exception):
    """A Stripe call failed. ``retryable`` says whether the same call with the same idempotency key may succeed."""

    retryable_default = False

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retryable: bool | None = None,
        http_status: int | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = self.retryable_default if retryable is None else retryable
        self.http_status = http_status
        self.param = param

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, http_status={self.http_status!r}, message={self.message!r})"


class CardDeclined(GatewayError):
    """The card was declined (HTTP 402). ``code`` is Stripe's decline code when there is one."""


class InvalidRequest(GatewayError):
    """Stripe refused the request (bad parameter, unknown object, idempotency key reused with other parameters...)."""


class GatewayUnavailable(GatewayError):
    """Network error, timeout, rate limit or a 5xx: retry later with the same idempotency key."""

    retryable_default = True


class SignatureInvalid(GatewayError):
    """A webhook's signature does not verify or its timestamp is outside the tolerance."""


# --- Returned values ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Customer:
    id: str


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: str
    status: str
    amount: int  # minor units
    currency: str
    latest_charge: str | None
    transfer_group: str | None
    last_error: str  # "" when none; otherwise the decline code or message


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    status: str
    amount_due: int  # minor units
    amount_paid: int  # minor units
    currency: str
    hosted_invoice_url: str | None
    charge: str | None
    payment_intent: str | None
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    charge: str | None
    amount: int  # minor units
    status: str


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str]
    disabled_reason: str | None
    transfers_capability: str = "inactive"  # "active" when the account can receive transfers


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    amount: int  # minor units
    currency: str
    destination: str
    transfer_group: str | None
    source_transaction: str | None
    amount_reversed: int  # minor units
    reversed: bool
    metadata: Metadata
    destination_payment: str | None
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class TransferReversal:
    id: str
    transfer: str
    amount: int  # minor units


@dataclass(frozen=True, slots=True)
class Payout:
    id: str
    account: str
    amount: int  # minor units
    currency: str
    status: str
    arrival_date: date | None  # UTC date
    failure_code: str | None
    automatic: bool
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class BalanceTransaction:
    id: str
    amount: int  # minor units, gross
    net: int  # minor units, after fee
    fee: int  # minor units
    currency: str
    type: str
    source: str | None


@dataclass(frozen=True, slots=True)
class Charge:
    id: str
    amount: int  # minor units
    amount_refunded: int  # minor units
    currency: str
    status: str
    payment_intent: str | None
    transfer_group: str | None
    balance_transaction: str | None
    created: datetime | None = None


# --- The client --------------------------------------------------------------------------------------------------

_client_lock = threading.Lock()
_clients: dict[tuple[str, str, int, float], stripe.StripeClient] = {}


def _client() -> stripe.StripeClient:
    """One client per configuration (tests override settings); built on first use, shared across threads."""
    key = (
        settings.STRIPE_SECRET_KEY or EMULATOR_API_KEY,
        settings.STRIPE_API_BASE.rstrip("/"),
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
        float(settings.STRIPE_TIMEOUT_SECONDS),
    )
    with _client_lock:
        client = _clients.get(key)
        if client is None:
            api_key, api_base, retries, timeout = key
            client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base, "connect": api_base, "files": api_base},
                max_network_retries=retries,
                stripe_version=STRIPE_API_VERSION,
                http_client=stripe.RequestsClient(timeout=timeout),
            )
            _clients[key] = client
        return client


def is_local_emulator() -> bool:
    """True when STRIPE_API_BASE points at a loopback address, i.e. the project's local Stripe emulator."""
    return (urlsplit(settings.STRIPE_API_BASE).hostname or "") in _LOOPBACK_HOSTS


def _translate(exc: stripe.StripeError) -> GatewayError:
    status = exc.http_status
    code = str(exc.code) if exc.code else ""
    message = exc.user_message or str(exc) or type(exc).__name__
    param = getattr(exc, "param", None)
    if isinstance(exc, stripe.CardError):
        error = exc.error
        decline = getattr(error, "decline_code", None) if error is not None else None
        return CardDeclined(decline or code or "card_declined", message, http_status=status, param=param)
    if isinstance(exc, stripe.IdempotencyError):
        return InvalidRequest("idempotency_error", message, http_status=status)
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayUnavailable("network_error", message, http_status=status)
    if isinstance(exc, stripe.RateLimitError):
        return GatewayUnavailable(code or "rate_limit", message, http_status=status)
    if (status is not None and status >= 500) or isinstance(exc, stripe.APIError):
        return GatewayUnavailable(code or "api_error", message, http_status=status)
    if isinstance(exc, stripe.InvalidRequestError):
        return InvalidRequest(code or "invalid_request", message, http_status=status, param=param)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayError(code or "authentication_error", message, http_status=status)
    return GatewayError(code or "stripe_error", message, http_status=status, param=param)


class _Translated:
    """``with _errors():`` turns any stripe exception into the matching GatewayError."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if isinstance(exc, stripe.StripeError):
            raise _translate(exc) from exc
        return False


_errors = _Translated


def _post_options(idempotency_key: str, account: str | None = None) -> stripe.RequestOptions:
    if not idempotency_key:
        raise ValueError("idempotency_key is required for every POST to Stripe")
    options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
    if account:
        options["stripe_account"] = account
    return options


def _account_options(account: str | None) -> stripe.RequestOptions:
    return {"stripe_account": account} if account else {}


def _unix(value: Timestamp) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _dt(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def _id(value: Any) -> str | None:
    """An expandable field: the id string, or the id of an expanded object."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return str(value.id)


def _meta(value: Any) -> dict[str, str]:
    if not value:
        return {}
    return {str(k): str(v) for k, v in value.to_dict().items()}


# --- Customers and payment intents -------------------------------------------------------------------------------


def create_customer(*, email: str, name: str, metadata: Metadata, idempotency_key: str) -> Customer:
    params: CustomerCreateParams = {"email": email, "name": name, "metadata": dict(metadata)}
    with _errors():
        customer = _client().v1.customers.create(params, _post_options(idempotency_key))
    return Customer(id=customer.id)


def _payment_intent(pi: stripe.PaymentIntent) -> PaymentIntent:
    last_error = ""
    if pi.last_payment_error is not None:
        err = pi.last_payment_error
        last_error = str(err.decline_code or err.code or err.message or "payment_failed")
    return PaymentIntent(
        id=pi.id,
        status=pi.status,
        amount=pi.amount,
        currency=pi.currency,
        latest_charge=_id(pi.latest_charge),
        transfer_group=pi.transfer_group,
        last_error=last_error,
    )


def create_payment_intent(
    *,
    customer: str,
    amount: int,
    currency: str,
    payment_method: str,
    transfer_group: str | None,
    metadata: Metadata,
    idempotency_key: str,
) -> PaymentIntent:
    """Create and confirm an off-session card payment. A decline raises CardDeclined."""
    params: PaymentIntentCreateParams = {
        "customer": customer,
        "amount": amount,
        "currency": currency.lower(),
        "payment_method": payment_method,
        # Card only and no redirects: an off-session payment cannot send the lab through a 3DS page.
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        "confirm": True,
        "off_session": True,
        "metadata": dict(metadata),
    }
    if transfer_group:
        params["transfer_group"] = transfer_group
    with _errors():
        pi = _client().v1.payment_intents.create(params, _post_options(idempotency_key))
    return _payment_intent(pi)


def retrieve_payment_intent(id: str) -> PaymentIntent:
    with _errors():
        return _payment_intent(_client().v1.payment_intents.retrieve(id))


# --- Invoices ----------------------------------------------------------------------------------------------------


def _invoice(inv: stripe.Invoice) -> Invoice:
    # Since API 2025-03 an invoice no longer carries charge/payment_intent: they live in its `payments` list.
    charge: str | None = None
    payment_intent: str | None = None
    payments = getattr(inv, "payments", None)
    if payments is not None:
        for invoice_payment in payments.data:
            if invoice_payment.status != "paid":
                continue
            payment = invoice_payment.payment
            charge = _id(getattr(payment, "charge", None))
            payment_intent = _id(getattr(payment, "payment_intent", None))
            break
    if charge is None and payment_intent is not None:
        charge = retrieve_payment_intent(payment_intent).latest_charge
    return Invoice(
        id=str(inv.id),
        status=str(inv.status),
        amount_due=inv.amount_due,
        amount_paid=inv.amount_paid,
        currency=inv.currency,
        hosted_invoice_url=inv.hosted_invoice_url,
        charge=charge,
        payment_intent=payment_intent,
        metadata=_meta(inv.metadata),
    )


def create_invoice(
    *,
    customer: str,
    lines: list[tuple[str, int]],
    currency: str,
    metadata: Metadata,
    days_until_due: int,
    idempotency_key: str,
) -> Invoice:
    """A one-off invoice sent for payment: one invoice item per (description, amount) line, then finalize.

    Each step has its own key derived from ``idempotency_key`` so the whole sequence can be retried.
    """
    if not lines:
        raise ValueError("an invoice needs at least one line")
    client = _client()
    with _errors():
        invoice_params: InvoiceCreateParams = {
            "customer": customer,
            "currency": currency.lower(),
            "collection_method": "send_invoice",
            "days_until_due": days_until_due,
            "pending_invoice_items_behavior": "exclude",
            "auto_advance": False,
            "metadata": dict(metadata),
        }
        invoice = client.v1.invoices.create(invoice_params, _post_options(f"{idempotency_key}:invoice"))
        for n, (description, amount) in enumerate(lines):
            item_params: InvoiceItemCreateParams = {
                "customer": customer,
                "invoice": str(invoice.id),
                "amount": amount,
                "currency": currency.lower(),
                "description": description,
                "metadata": dict(metadata),
            }
            client.v1.invoice_items.create(item_params, _post_options(f"{idempotency_key}:item:{n}"))
        finalize_params: InvoiceFinalizeInvoiceParams = {"auto_advance": False}
        invoice = client.v1.invoices.finalize_invoice(
            str(invoice.id), finalize_params, _post_options(f"{idempotency_key}:finalize")
        )
    return _invoice(invoice)


def retrieve_invoice(id: str) -> Invoice:
    params: InvoiceRetrieveParams = {"expand": ["payments"]}
    with _errors():
        invoice = _client().v1.invoices.retrieve(id, params)
        return _invoice(invoice)


# --- Refunds -----------------------------------------------------------------------------------------------------


def create_refund(*, charge: str, amount: int, reason: str | None, idempotency_key: str) -> Refund:
    """Refund part or all of a charge. Refunds never reverse transfers: call create_transfer_reversal too."""
    params: RefundCreateParams = {"charge": charge, "amount": amount}
    if reason:
        params["reason"] = reason
    with _errors():
        refund = _client().v1.refunds.create(params, _post_options(idempotency_key))
    return Refund(id=refund.id, charge=_id(refund.charge), amount=refund.amount, status=str(refund.status))


# --- Connected accounts ------------------------------------------------------------------------------------------


def _account(acct: stripe.Account) -> ConnectedAccount:
    due: list[str] = []
    disabled_reason: str | None = None
    requirements = acct.requirements
    if requirements is not None:
        for key in [*(requirements.past_due or []), *(requirements.currently_due or [])]:
            if key not in due:
                due.append(key)
        disabled_reason = requirements.disabled_reason
    transfers = "inactive"
    if acct.capabilities is not None:
        transfers = str(getattr(acct.capabilities, "transfers", None) or "inactive")
    return ConnectedAccount(
        id=acct.id,
        charges_enabled=bool(acct.charges_enabled),
        payouts_enabled=bool(acct.payouts_enabled),
        details_submitted=bool(acct.details_submitted),
        requirements_due=due,
        disabled_reason=disabled_reason,
        transfers_capability=transfers,
    )


def create_connected_account(
    *, email: str, country: str, business_type: str, metadata: Metadata, idempotency_key: str
) -> ConnectedAccount:
    """An Express-like account via controller properties: Stripe collects requirements and handles payout
    dashboard access, the platform pays fees and carries losses. Requests only the `transfers` capability."""
    params: AccountCreateParams = {
        "controller": {
            "fees": {"payer": "application"},
            "losses": {"payments": "application"},
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": "express"},
        },
        "country": country.upper(),
        "email": email,
        "business_type": business_type,
        "capabilities": {"transfers": {"requested": True}},
        "metadata": dict(metadata),
    }
    with _errors():
        account = _client().v1.accounts.create(params, _post_options(idempotency_key))
    return _account(account)


def retrieve_account(id: str) -> ConnectedAccount:
    with _errors():
        return _account(_client().v1.accounts.retrieve(id))


def create_account_link(*, account: str, refresh_url: str, return_url: str) -> str:
    """A single-use onboarding URL (expires after minutes; create a new one each time the user clicks)."""
    params: AccountLinkCreateParams = {
        "account": account,
        "refresh_url": refresh_url,
        "return_url": return_url,
        "type": "account_onboarding",
        "collection_options": {"fields": "currently_due"},
    }
    with _errors():
        # A fresh link every time is intended: links are single-use, so a random key is right here.
        link = _client().v1.account_links.create(params)
    return str(link.url)


# --- Transfers ---------------------------------------------------------------------------------------------------


def _transfer(tr: stripe.Transfer) -> Transfer:
    return Transfer(
        id=tr.id,
        amount=tr.amount,
        currency=tr.currency,
        destination=_id(tr.destination) or "",
        transfer_group=tr.transfer_group,
        source_transaction=_id(tr.source_transaction),
        amount_reversed=tr.amount_reversed,
        reversed=bool(tr.reversed),
        metadata=_meta(tr.metadata),
        destination_payment=_id(tr.destination_payment),
        created=_dt(tr.created),
    )


def create_transfer(
    *,
    amount: int,
    currency: str,
    destination: str,
    transfer_group: str | None,
    source_transaction: str | None,
    metadata: Metadata,
    idempotency_key: str,
) -> Transfer:
    """Move ``amount`` from the platform to a connected account. With ``source_transaction`` the funds come from
    that charge (and the sum of its transfers may not exceed it)."""
    params: TransferCreateParams = {
        "amount": amount,
        "currency": currency.lower(),
        "destination": destination,
        "metadata": dict(metadata),
    }
    if transfer_group:
        params["transfer_group"] = transfer_group
    if source_transaction:
        params["source_transaction"] = source_transaction
    with _errors():
        transfer = _client().v1.transfers.create(params, _post_options(idempotency_key))
    return _transfer(transfer)


def retrieve_transfer(id: str) -> Transfer:
    with _errors():
        return _transfer(_client().v1.transfers.retrieve(id))


def list_transfers(
    *, transfer_group: str | None = None, created_gte: Timestamp | None = None, created_lt: Timestamp | None = None
) -> Iterator[Transfer]:
    """Every matching transfer, newest first, fetching further pages as the caller iterates."""
    params: TransferListParams = {"limit": 100}
    if transfer_group:
        params["transfer_group"] = transfer_group
    created: TransferListParamsCreated = {}
    if created_gte is not None:
        created["gte"] = _unix(created_gte)
    if created_lt is not None:
        created["lt"] = _unix(created_lt)
    if created:
        params["created"] = created
    with _errors():
        for transfer in _client().v1.transfers.list(params).auto_paging_iter():
            yield _transfer(transfer)


def create_transfer_reversal(
    *, transfer: str, amount: int, metadata: Metadata, idempotency_key: str
) -> TransferReversal:
    """Take ``amount`` back from the connected account (after a refund or dispute)."""
    params: TransferReversalCreateParams = {"amount": amount, "metadata": dict(metadata)}
    with _errors():
        reversal = _client().v1.transfers.reversals.create(transfer, params, _post_options(idempotency_key))
    return TransferReversal(id=reversal.id, transfer=_id(reversal.transfer) or transfer, amount=reversal.amount)


# --- Connected payouts and balance transactions ------------------------------------------------------------------


def _payout(po: stripe.Payout, account: str) -> Payout:
    arrival = datetime.fromtimestamp(po.arrival_date, tz=UTC).date() if po.arrival_date else None
    return Payout(
        id=po.id,
        account=account,
        amount=po.amount,
        currency=po.currency,
        status=po.status,
        arrival_date=arrival,
        failure_code=po.failure_code,
        automatic=bool(po.automatic),
        created=_dt(po.created),
    )


def list_payouts(*, account: str, created_gte: Timestamp | None = None) -> Iterator[Payout]:
    """Payouts of a connected account (read with the Stripe-Account header), auto-paging."""
    params: PayoutListParams = {"limit": 100}
    if created_gte is not None:
        params["created"] = {"gte": _unix(created_gte)}
    with _errors():
        for payout in _client().v1.payouts.list(params, _account_options(account)).auto_paging_iter():
            yield _payout(payout, account)


def retrieve_payout(id: str, *, account: str) -> Payout:
    with _errors():
        return _payout(_client().v1.payouts.retrieve(id, None, _account_options(account)), account)


def list_balance_transactions(*, account: str | None = None, payout: str | None = None) -> Iterator[BalanceTransaction]:
    """Balance transactions of the platform (or of ``account``), newest first, auto-paging.

    With ``payout`` (automatic payouts only): the transactions that payout swept PLUS the payout's own
    ``type == "payout"`` transaction (amount = -payout.amount), as Stripe lists them. Reconciliation checks
    sum(net of the others) == payout.amount, i.e. the sum over all of them is 0.
    """
    params: BalanceTransactionListParams = {"limit": 100}
    if payout:
        params["payout"] = payout
    with _errors():
        listing = _client().v1.balance_transactions.list(params, _account_options(account))
        for txn in listing.auto_paging_iter():
            yield BalanceTransaction(
                id=txn.id,
                amount=txn.amount,
                net=txn.net,
                fee=txn.fee,
                currency=txn.currency,
                type=str(txn.type),
                source=_id(txn.source),
            )


# --- Charges -----------------------------------------------------------------------------------------------------


def _charge(ch: stripe.Charge) -> Charge:
    return Charge(
        id=ch.id,
        amount=ch.amount,
        amount_refunded=ch.amount_refunded,
        currency=ch.currency,
        status=str(ch.status),
        payment_intent=_id(ch.payment_intent),
        transfer_group=ch.transfer_group,
        balance_transaction=_id(ch.balance_transaction),
        created=_dt(ch.created),
    )


def list_charges(*, created_gte: Timestamp | None = None, created_lt: Timestamp | None = None) -> Iterator[Charge]:
    params: ChargeListParams = {"limit": 100}
    created: ChargeListParamsCreated = {}
    if created_gte is not None:
        created["gte"] = _unix(created_gte)
    if created_lt is not None:
        created["lt"] = _unix(created_lt)
    if created:
        params["created"] = created
    with _errors():
        for charge in _client().v1.charges.list(params).auto_paging_iter():
            yield _charge(charge)


def retrieve_charge(id: str) -> Charge:
    with _errors():
        return _charge(_client().v1.charges.retrieve(id))


# --- Events and webhooks -----------------------------------------------------------------------------------------


def list_events(*, created_gte: Timestamp | None = None, account: str | None = None) -> Iterator[dict[str, Any]]:
    """Events as plain dicts (the shape a webhook delivers), newest first, auto-paging: the platform's, or with
    ``account`` those of that connected account (what the Connect endpoint receives)."""
    params: EventListParams = {"limit": 100}
    if created_gte is not None:
        params["created"] = {"gte": _unix(created_gte)}
    with _errors():
        for event in _client().v1.events.list(params, _account_options(account)).auto_paging_iter():
            yield event.to_dict()


def construct_event(payload: bytes, sig_header: str, secret: str) -> dict[str, Any]:
    """Verify a webhook's ``Stripe-Signature`` against the RAW request body and return the event as a dict.

    Raises SignatureInvalid on a missing, malformed or wrong signature, or a timestamp older than 300 s.
    """
    if not secret:
        raise SignatureInvalid("no_webhook_secret", "No webhook signing secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), sig_header or "", secret, WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid("signature_invalid", str(exc.user_message or exc), http_status=400) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignatureInvalid("payload_invalid", f"The webhook payload is not JSON: {exc}", http_status=400) from exc
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise SignatureInvalid("payload_invalid", "The webhook payload is not a Stripe event.", http_status=400)
    return event
