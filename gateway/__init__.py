"""The web gateway: the assistant's only front door (widget WebSocket, HTTP API, web pages)."""
