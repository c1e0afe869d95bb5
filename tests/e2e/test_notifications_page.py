"""An admin composes a broadcast on the Notifications page in Chromium, picks one recipient,
sends it, sees the result and the history; the recipient's open JupyterLab tab shows it."""

from __future__ import annotations

from urllib.parse import quote

from harness import PASSWORD
from playwright.sync_api import expect

QUEUE = "jupyterlab-notifications-extension/notifications"


def login_to(page, hub, name, target_path):
    page.goto(hub.hub_url + "login?next=" + quote(target_path))
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def test_compose_select_send_results_history_and_the_lab_shows_it(hub, page, browser):
    # nothing runs yet: a broadcast to "all running labs" would reach nobody and is refused
    r = hub.api(hub.admin_session(), "POST", "notifications/broadcast", json={"message": "anyone?"})
    assert r.status_code == 409 and "nothing was sent" in r.json()["message"]
    (reader, reader_session), (other, other_session) = hub.new_user("rd"), hub.new_user("ot")
    for name, session in ((reader, reader_session), (other, other_session)):
        assert hub.api(session, "POST", f"users/{name}/server").status_code in (201, 202)
    for name, session in ((reader, reader_session), (other, other_session)):
        hub.wait_server(session, name, ready=True, timeout=180)

    # the reader has JupyterLab open in their own browser
    lab_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        lab = lab_context.new_page()
        lab.set_default_timeout(120_000)
        login_to(lab, hub, reader, f"/jupyterhub/user/{reader}/lab")
        lab.wait_for_selector("#jp-main-dock-panel")

        login_to(page, hub, hub.admin, "/jupyterhub/hub/notifications")
        page.wait_for_url("**/hub/notifications")
        expect(page.locator("#nav-notifications")).to_have_text("Notifications")
        expect(page.locator("#running-count")).to_have_text("2")
        expect(page.locator("#history-empty")).to_be_visible()

        send = page.locator("#notify-send")
        expect(send).to_be_disabled()  # nothing written yet
        page.fill("#notify-message", "x" * 141)
        expect(page.locator("#notify-counter")).to_have_text("141 / 140")
        expect(send).to_be_disabled()
        page.fill("#notify-message", "   Coffee in the kitchen   ")
        expect(page.locator("#notify-counter")).to_have_text("21 / 140")  # trimmed
        expect(send).to_have_text("Send to 2 labs")
        page.select_option("#notify-type", "success")

        page.check("#recipients-some")
        expect(page.locator("#recipient-list input")).to_have_count(2)
        page.click("#select-none")
        expect(send).to_have_text("Send to 0 labs")
        expect(send).to_be_disabled()
        page.click("#select-all")
        expect(send).to_have_text("Send to 2 labs")
        page.click("#select-none")
        page.check(f"#recipient-list input[value='{reader}']")
        expect(send).to_have_text("Send to 1 lab")
        send.click()

        row = page.locator(f"#notify-results tr[data-username='{reader}']")
        expect(row).to_contain_text("delivered")
        expect(page.locator("#notify-results tbody tr")).to_have_count(1)
        expect(page.locator("#results-summary")).to_have_text("Delivered to 1 of 1.")
        first = page.locator("#notify-history tbody tr").first
        expect(first).to_contain_text("Coffee in the kitchen")
        expect(first).to_contain_text("success")
        expect(first).to_contain_text(hub.admin)

        # shown at once in the reader's open lab, with a Dismiss button that closes it
        toast = lab.locator(".Toastify__toast", has_text="Coffee in the kitchen")
        expect(toast).to_be_visible(timeout=30_000)
        toast.get_by_role("button", name="Dismiss").click()
        expect(toast).to_have_count(0)

        # the other lab was not chosen and got nothing
        r = hub.lab(other, "GET", QUEUE)
        assert r.status_code == 200 and r.json()["notifications"] == []

        # the history is the server's, not the page's memory
        page.reload()
        expect(page.locator("#notify-history tbody tr").first).to_contain_text("Coffee in the kitchen")
    finally:
        lab_context.close()
