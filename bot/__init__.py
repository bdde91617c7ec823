"""Publishing service for a WeChat official account."""

__version__ = "0.1.0"
