"""Adapters from the application's interfaces to Scaffold's building blocks."""
