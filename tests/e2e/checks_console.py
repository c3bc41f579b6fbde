"""The web console in a real browser: headless Chromium (through Selenium, as
checks_browser.py starts it) signs in to the console on the admin port, creates a bucket
with the page's form and finds it listed, and leaves screenshots of the pages in
docs/console/ (linked from docs/console.md). A failure says what the page showed and the
browser's console log (a Content-Security-Policy violation shows there)."""

import os

from checks_browser import console_log, start_browser
from harness import SECRET, boto3_client

SHOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "console")


def shot(driver, name):
    """A screenshot of the page at a laptop width, for the docs; and the same page at a
    phone's width (390 px), where nothing may make the page scroll sideways."""
    os.makedirs(SHOTS, exist_ok=True)
    driver.set_window_size(1280, 800)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll(
                'input:not([type=hidden]), select, textarea, button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                && !(e.tagName === 'BUTTON' && e.textContent.trim()))
            .map(e => e.outerHTML.slice(0, 160));""")
    assert not unlabelled, f"{name}: controls without a label: {unlabelled}"
    driver.set_window_size(390, 844)
    inner = driver.execute_script("return window.innerWidth")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= inner, f"{name}: the page is {width}px wide on a {inner}px screen"
    driver.set_window_size(1280, 800)


def navigate(driver, element):
    """Clicks `element` (a link or a submit button) and waits until the page it leads to has
    replaced this one: a lookup right after a bare click may find the old page's elements."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import WebDriverException
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(driver):
        # ChromeDriver sometimes answers a question about a node of the page being torn down
        # with "Node with given id does not belong to the document" rather than "stale element":
        # the same fact, the old page is gone.
        try:
            return expected_conditions.staleness_of(old)(driver)
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise

    WebDriverWait(driver, 30).until(replaced)


def sign_in(driver, server, access_key, secret):
    from selenium.webdriver.common.by import By
    # A click on a submit button returns before the next page has loaded: every lookup waits
    # (up to 10 s) for its element to appear, so it finds the page the click led to.
    driver.implicitly_wait(10)
    driver.get(server.url("admin", "/"))
    assert driver.current_url.endswith("/signin"), driver.current_url
    driver.find_element(By.ID, "access_key").send_keys(access_key)
    driver.find_element(By.ID, "secret_key").send_keys(secret)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The click starts the post; wait for the page it leads to before going anywhere else.
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 30).until(
        lambda d: not d.current_url.endswith("/signin") or d.find_elements(By.CSS_SELECTOR, ".flash.error"))


def check_console_sign_in_and_create_a_bucket(server):
    from selenium.webdriver.common.by import By
    work = server.workdir("console")
    s3 = boto3_client(server, "s3", "s3")
    driver = start_browser(work)
    try:
        driver.set_window_size(1280, 800)
        driver.get(server.url("admin", "/signin"))
        shot(driver, "signin")
        # By keyboard alone: the key field has the focus, Tab moves on, Enter signs in.
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
        active = driver.switch_to.active_element
        assert active.get_attribute("id") == "access_key", active.get_attribute("outerHTML")
        active.send_keys("admin", Keys.TAB)
        driver.switch_to.active_element.send_keys(SECRET, Keys.ENTER)
        WebDriverWait(driver, 30).until(lambda d: d.current_url.endswith("/buckets"))
        driver.implicitly_wait(10)
        # The first Tab reaches "Skip to content".
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert driver.switch_to.active_element.text == "Skip to content"
        field = driver.find_element(By.ID, "new_bucket")
        field.send_keys("e2e-console")
        old = driver.find_element(By.TAG_NAME, "html")
        field.send_keys(Keys.ENTER)
        from selenium.webdriver.support import expected_conditions
        WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))
        status = driver.find_element(By.CSS_SELECTOR, "p.flash").text
        assert "Bucket e2e-console created." in status, (status, console_log(driver))
        names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.list td a")]
        assert "e2e-console" in names, names
        s3.head_bucket(Bucket="e2e-console")
        shot(driver, "buckets")
        driver.get(server.url("admin", "/bucket?bucket=e2e-console"))
        assert "Settings of e2e-console" in driver.page_source, driver.page_source
        shot(driver, "bucket")
        s3.put_object(Bucket="e2e-console", Key="hello.txt", Body=b"hello from the dashboard check")
        driver.get(server.url("admin", "/dashboard"))
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart"), driver.page_source
        shot(driver, "dashboard")
        driver.get(server.url("admin", "/buckets"))
        # A phone's width: the same page, nothing cut off.
        driver.set_window_size(390, 844)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, "\n".join(f"{e.get('level')} {e.get('message')}" for e in errors)
    finally:
        driver.quit()


CHECKS = [check_console_sign_in_and_create_a_bucket]
