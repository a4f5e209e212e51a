"""The chatbot's presentation layer."""
