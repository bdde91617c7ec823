"""The JSON API under /api/: the same actions as the admin, for scripts with a Bearer token.
Shapes come from ``bot.shapes`` (the operator contract); errors are ``{"error": "..."}``."""
