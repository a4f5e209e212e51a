"""The same route in bare Quart."""

from pathlib import Path

from bench_service import Greeter
from quart import Quart, render_template

app = Quart(__name__, root_path=str(Path(__file__).parent))
greeter = Greeter()


@app.route("/")
async def index() -> str:
    return await render_template(
        "page.html", title="Quart", greeting=greeter.greet("world"), items=greeter.items()
    )
