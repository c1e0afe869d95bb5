"""JUPYTERHUB_LOGO_URI (file, URL, missing file) and the version footer on the home page."""

from __future__ import annotations

import base64
import re
from importlib import metadata
from pathlib import Path

import requests
from jupyterhub._data import DATA_FILES_PATH

# a real 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
# the start of a JPEG/JFIF file: the hub serves the bytes, the type comes from the extension
JPG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'><rect width='10' height='10'/></svg>"
JUPYTERHUB_DEFAULT_LOGO = Path(DATA_FILES_PATH) / "static" / "images" / "jupyterhub-80.png"


def _logo_img_src(hub) -> str:
    page = requests.get(hub.hub_url + "login", timeout=10).text
    found = re.search(r'id="jupyterhub-logo".*?<img src="([^"]+)"', page, re.S)
    assert found, "no logo on the login page"
    return found.group(1)


def test_file_logos_are_served_by_the_hub(make_hub, tmp_path):
    for name, content, mime in (
        ("logo.svg", SVG, "image/svg+xml"),
        ("logo.png", PNG, "image/png"),
        ("logo.jpg", JPG, "image/jpeg"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        hub = make_hub(JUPYTERHUB_LOGO_URI=f"file://{path}")
        r = requests.get(hub.hub_url + "logo", timeout=10)
        assert r.status_code == 200 and r.content == content, name
        assert r.headers["Content-Type"] == mime
        assert _logo_img_src(hub).endswith("/hub/logo")
        assert "JUPYTERHUB_LOGO_URI" not in hub.log_text()  # no warning when the file exists
        hub.stop()


def test_url_logo_is_used_as_is(make_hub):
    url = "https://cdn.example.org/brand/logo.svg"
    hub = make_hub(JUPYTERHUB_LOGO_URI=url)
    assert _logo_img_src(hub) == url


def test_missing_logo_file_falls_back_with_one_warning(hub):
    # the shared test environment points JUPYTERHUB_LOGO_URI at file:///nonexistent/logo.svg
    r = requests.get(hub.hub_url + "logo", timeout=10)
    assert r.status_code == 200 and r.content == JUPYTERHUB_DEFAULT_LOGO.read_bytes()
    warnings = [line for line in hub.log_text().splitlines() if "JUPYTERHUB_LOGO_URI" in line]
    assert len(warnings) == 1 and "[W " in warnings[0] and "/nonexistent/logo.svg" in warnings[0]


def test_home_page_footer_shows_installed_versions(hub):
    session = hub.admin_session()
    page = session.get(hub.hub_url + "home").text
    expected = (
        f"Stellars JupyterHub DS {metadata.version('stellars-jupyterhub-ds')} | "
        f"JupyterHub {metadata.version('jupyterhub')}"
    )
    footer = re.search(r'<span id="stellars-version">(.*?)</span>', page).group(1)
    assert footer == expected
    assert page.count('id="stellars-footer"') == 1
    # the footer belongs to the home page only
    assert 'id="stellars-footer"' not in session.get(hub.hub_url + "token").text
