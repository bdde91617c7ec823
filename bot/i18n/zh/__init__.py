"""The Chinese for each English string, one module per area (see ``bot.i18n``).

To add strings: append them to the module of your area, or add a module here with a dict
named ``ZH``; it is picked up by name, nothing else to register. Keep one entry per line,
English key first; a sentence with values keeps the same ``{name}`` fields in both.
A key belongs to one module only (``tests/unit/test_i18n.py`` checks this).
"""
