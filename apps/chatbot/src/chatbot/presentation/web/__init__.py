"""The web entry point: controllers, forms, templates and assets."""
