"""Connect: SDK workers that dial in over WebSocket instead of serving HTTP."""
