"""Data transfer objects handed to the presentation layer."""
