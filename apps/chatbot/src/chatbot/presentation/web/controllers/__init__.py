"""HTTP and websocket controllers."""
