"""Check findings on posts and catalogue rows (``bot check``, drafting, the admin)."""

ZH: dict[str, str] = {}
