from apps.core.hooks import Hook

credential_lapsed = Hook(
    "credential_lapsed",
    "A verified credential stopped counting (expired or revoked): fired with credential=<Credential>, "
    "in the transaction of the change.",
)
