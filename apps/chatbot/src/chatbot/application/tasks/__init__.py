"""Background tasks and their handlers."""
