"""The chatbot's infrastructure layer."""
