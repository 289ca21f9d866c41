"""The top floor: how people and programs enter kojin — the ``kojin`` command and the ASGI apps uvicorn serves.

Nothing below this package imports it. A new command group is a module in ``cli/``;
a new served app is a module in ``http/``.
"""
