"""The chatbot's application layer."""
