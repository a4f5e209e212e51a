"""The chatbot's domain layer."""
