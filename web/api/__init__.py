"""The HTTP API of API.md, mounted under /api/v1/ (`urls`): the client's side
(`public`, `booking`, `manage`, `identity`), the payment provider's `webhooks`, and the
salon's `backoffice/`. Serializers are written once (`serializers`); the domain's errors
are answered in API.md's shape by one handler (`web/errors.py`)."""
