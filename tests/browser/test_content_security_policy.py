"""The browser enforces Pier's Content-Security-Policy, and the fixtures catch violations."""

from playwright.sync_api import Page


def test_an_injected_inline_script_is_blocked_and_reported(page: Page, csp_violations):
    page.goto("/login")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate(
            """() => {
                const script = document.createElement("script");
                script.textContent = "window.injected = true;";
                document.head.append(script);
            }"""
        )

    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in v for v in csp_violations)
    csp_violations.clear()  # seen; every other browser test fails on any violation


def test_the_login_page_works_under_the_policy(page: Page, csp_violations):
    page.goto("/login")
    page.wait_for_load_state("load")
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""
    assert csp_violations == []
