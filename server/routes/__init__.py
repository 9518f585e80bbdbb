"""HTTP and WebSocket routes of the reference server, one module per SPEC area."""
