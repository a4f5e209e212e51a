"""The service every peer's route uses: greets and lists three items."""


class Greeter:
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"

    def items(self) -> list[str]:
        return ["domain", "application", "presentation"]
