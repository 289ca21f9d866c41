"""The ASGI applications uvicorn serves: every party in one app, or the hub on its own."""
