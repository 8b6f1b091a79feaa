"""remise api: the HTTP API (``api.app.create_app``) and the ``remise`` command line.

The top of the import ladder: it may use rules, dsl and engine; nothing
imports it.
"""
