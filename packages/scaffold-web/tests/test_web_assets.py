"""The asset pipeline: fingerprinted names, asset_url(), cache headers, 404s."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from quart import ResponseReturnValue

from scaffold.web import Assets, BaseController, UnknownAssetError, controller, route
from scaffold.web.testing import WebTestClient

CSS = "body { color: red; }\n"
ASSETS = {"css/app.css": CSS, "js/app.min.js": "console.log(1);\n", ".hidden": "x"}


@controller(name="home")
class HomeController(BaseController):
    @route("/")
    async def index(self) -> ResponseReturnValue:
        return await self.render_template("page.html")

    @route("/broken")
    async def broken(self) -> ResponseReturnValue:
        return await self.render_template("broken.html")


TEMPLATES = {
    "page.html": (
        '<link href="{{ asset_url("css/app.css") }}">'
        '<script src="{{ asset_url("js/app.min.js") }}">'
    ),
    "broken.html": '{{ asset_url("css/missing.css") }}',
}


@pytest.fixture
def app(make_app):
    return make_app(HomeController, templates=TEMPLATES, assets=ASSETS)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class TestPipeline:
    def test_names_carry_the_content_hash(self, tmp_path: Path) -> None:
        """Each file gets a name with its content hash before the extensions."""
        (tmp_path / "css").mkdir()
        (tmp_path / "css" / "app.css").write_text(CSS)
        assets = Assets(tmp_path)
        assets.scan()
        assert assets.url("css/app.css") == f"/assets/css/app.{digest(CSS)}.css"

    def test_unknown_asset_names_the_known_ones(self, tmp_path: Path) -> None:
        """Asking for a missing asset says which exist."""
        (tmp_path / "a.css").write_text("a")
        assets = Assets(tmp_path)
        assets.scan()
        with pytest.raises(UnknownAssetError, match=r"no asset 'b\.css'.*known: a\.css"):
            assets.url("b.css")

    def test_bad_prefix_is_refused(self, tmp_path: Path) -> None:
        """The URL prefix must start with '/' and not end with one."""
        with pytest.raises(ValueError, match="url_prefix"):
            Assets(tmp_path, "assets/")


class TestServing:
    async def test_template_links_fingerprinted_files(self, app) -> None:
        """asset_url() in a template gives the fingerprinted URLs."""
        async with WebTestClient(app) as client:
            html = await (await client.get("/")).get_data(as_text=True)
        assert f"/assets/css/app.{digest(CSS)}.css" in html
        assert re.search(r"/assets/js/app\.[0-9a-f]{12}\.min\.js", html)

    async def test_fingerprinted_file_is_cached_forever(self, app) -> None:
        """The fingerprinted file is served with an immutable one-year cache header."""
        async with WebTestClient(app) as client:
            response = await client.get(f"/assets/css/app.{digest(CSS)}.css")
            body = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert body == CSS
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.mimetype == "text/css"

    async def test_plain_name_is_revalidated(self, app) -> None:
        """The unfingerprinted name works but must be revalidated."""
        async with WebTestClient(app) as client:
            response = await client.get("/assets/css/app.css")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"

    @pytest.mark.parametrize(
        "path",
        ["/assets/css/app.0000.css", "/assets/nope.js", "/assets/.hidden", "/assets/../x"],
    )
    async def test_unknown_assets_are_404(self, app, path: str) -> None:
        """Unknown, hidden and traversal paths are a plain 404, not a server error."""
        async with WebTestClient(app) as client:
            response = await client.get(path)
        assert response.status_code == 404

    async def test_unknown_asset_in_a_template_is_an_error(self, app, caplog) -> None:
        """A template naming a missing asset is a server error logged with the asset's name."""
        async with WebTestClient(app) as client:
            response = await client.get("/broken")
        assert response.status_code == 500
        assert any(
            "css/missing.css" in record.getMessage() or "css/missing.css" in str(record.exc_info)
            for record in caplog.records
        )
