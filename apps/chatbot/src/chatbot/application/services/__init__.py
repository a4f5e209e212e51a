"""Application services: the use cases, orchestrating the domain."""
