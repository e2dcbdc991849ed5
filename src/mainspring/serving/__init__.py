"""The HTTP server in front of the app: connection deadlines, the connection cap and lingering
close, as a subclass of uvicorn's httptools protocol (uvicorn enforces none of them itself)."""
