"""Implementations of the domain's Chatbot."""
