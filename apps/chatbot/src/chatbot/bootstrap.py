"""The composition root: the one module that knows every layer of the chatbot."""
