"""Headless Chromium loads the API docs under the site's CSP without a single violation."""

import shutil

import pytest

from tests.api.test_schema import ENDPOINTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

sync_api = pytest.importorskip("playwright.sync_api")


def _launch(playwright):
    try:
        return playwright.chromium.launch()
    except Exception:
        executable = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if executable is None:
            pytest.skip("no Chromium available (run `playwright install chromium`)")
        return playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])


def test_swagger_ui_renders_every_operation_without_csp_violations(live_server):
    with sync_api.sync_playwright() as playwright:
        browser = _launch(playwright)
        try:
            page = browser.new_page()
            problems, requests = [], []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation',"
                " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
            )

            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock", timeout=15_000)
            page.locator(".opblock-summary").first.click()
            page.wait_for_selector(".responses-table", timeout=5_000)

            # Swagger UI renders long operation lists virtually (only what is near the viewport), so
            # walk down the page collecting every operation block that appears.
            seen: set[str] = set()
            last_y = -1
            for _ in range(400):
                seen.update(page.eval_on_selector_all(".opblock", "els => els.map(e => e.id)"))
                y = page.evaluate("() => { window.scrollBy(0, window.innerHeight / 2); return window.scrollY; }")
                page.wait_for_timeout(30)
                if y == last_y:
                    break
                last_y = y
            assert len(seen) == len(ENDPOINTS), sorted(seen)[:5]
            assert problems == []
            assert all(url.startswith(live_server.url) for url in requests), requests
        finally:
            browser.close()
