"""The command line: help texts, output lines and its error messages."""

ZH: dict[str, str] = {}
