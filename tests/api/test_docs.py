"""The Swagger UI page is served by the site itself and works under the strict CSP."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

ASSET = re.compile(r"""(?:src|href)="([^"]+)\"""")


@pytest.fixture
def docs(db):
    response = Client().get(reverse("api-docs"))
    assert response.status_code == 200
    return response


def assets(response):
    return ASSET.findall(response.content.decode())


def test_the_docs_page_answers_200_for_anyone(docs):
    assert docs["Content-Type"].startswith("text/html")
    assert 'id="swagger-ui"' in docs.content.decode()


def test_the_docs_page_links_nothing_outside_the_site(docs):
    html = docs.content.decode()

    assert not re.search(r"https?://", html)
    assert all(urlsplit(url).netloc == "" and url.startswith("/") for url in assets(docs))


def test_the_docs_page_has_no_inline_script_or_style(docs):
    html = docs.content.decode()

    assert "<style" not in html
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"<script[^>]*>[^<\s]", html)


def test_the_docs_page_keeps_the_strict_csp(docs):
    policy = docs["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_every_static_asset_of_the_docs_page_exists(docs):
    static = [url for url in assets(docs) if url.startswith("/static/")]

    assert len(static) >= 4  # css, page css, bundle, preset (and the favicon)
    for url in static:
        assert finders.find(url.removeprefix("/static/")), url


def test_the_static_assets_are_served_by_the_site(docs, settings):
    """Through WhiteNoise, as in production (with finders instead of a collectstatic run)."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()  # a new client builds its middleware with these settings

    for url in (u for u in assets(docs) if u.startswith("/static/")):
        response = client.get(url)
        assert response.status_code == 200, url
        b"".join(response.streaming_content)


def test_the_init_script_is_served_from_the_site(docs):
    (script_url,) = [url for url in assets(docs) if "script" in url and not url.startswith("/static/")]

    response = Client().get(script_url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert "SwaggerUIBundle(" in body
    assert '"/api/schema/' in body
    assert '"validatorUrl": null' in body
    assert not re.search(r"https?://", body)
