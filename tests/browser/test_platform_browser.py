"""In Chromium: sign up a clinic, land on its subdomain, sign in to its app; language; unknown clinic; console."""

import re

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _sign_up(page, live_url: str, *, name: str, subdomain: str, owner: str, email: str) -> None:
    page.goto(live_url.format("") + "/signup/")
    page.get_by_label("Clinic name").fill(name)
    page.get_by_label("Web address").fill(subdomain)
    page.get_by_label("Your full name").fill(owner)
    page.get_by_label("Your email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my clinic").click()


def test_signup_lands_on_the_new_subdomain_and_the_owner_signs_in(page, live_url):
    _sign_up(
        page,
        live_url,
        name="Klinik Browser Sehat",
        subdomain="browser-sehat",
        owner="dr. Andi Pratama",
        email="andi@browser.test",
    )
    page.wait_for_url(re.compile(r"^http://browser-sehat\.localhost:\d+/accounts/login/"))
    assert page.get_by_text("Your clinic is ready.").is_visible()

    page.get_by_label("Email").fill("andi@browser.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"^http://browser-sehat\.localhost:\d+/app/"))  # sign-in lands in the app
    clinic = live_url.format("browser-sehat.")
    page.goto(clinic + "/")  # the clinic's home page stays reachable
    assert "Klinik Browser Sehat" in page.locator(".brand").inner_text()
    assert "Welcome, dr. Andi Pratama" in page.content()
    page.goto(clinic + "/accounts/password/change/")
    page.locator("#nav-app").click()  # every server page leads back to the app
    page.wait_for_url(re.compile(r"^http://browser-sehat\.localhost:\d+/app/"))


def test_taken_subdomain_shows_a_form_error_in_the_browser(page, live_url):
    _sign_up(page, live_url, name="Klinik Kembar", subdomain="alpha", owner="X", email="x@kembar.test")
    assert page.locator(".error").first.inner_text().startswith("This address is already taken")


def test_language_is_chosen_by_the_user(page, live_url):
    page.goto(live_url.format("alpha.") + "/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("#language-select", "id")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("button", name="Masuk").is_visible()
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"


def test_browser_default_language_is_used_first(browser, live_url):
    context = browser.new_context(locale="id-ID")
    page = context.new_page()
    page.goto(live_url.format("") + "/")
    assert page.locator("html").get_attribute("lang") == "id"
    context.close()


def test_unknown_clinic_page(page, live_url):
    response = page.goto(live_url.format("tidak-ada.") + "/")
    assert response.status == 404
    assert page.get_by_role("heading", name="No clinic at this address").is_visible()


def test_operator_console_in_the_browser(page, live_url):
    page.goto(live_url.format("") + "/accounts/login/")
    page.get_by_label("Email").fill("operator@platform.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/console/$"))
    row = page.locator('tr[data-subdomain="beta"]')
    assert row.locator(".staff-count").inner_text() == "4"
    assert row.locator(".patient-count").inner_text() == "0"
