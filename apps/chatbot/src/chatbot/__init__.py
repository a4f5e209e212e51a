"""The reference chatbot of the Scaffold tutorial."""
