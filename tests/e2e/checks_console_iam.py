"""The console's IAM pages and policy simulator in headless Chromium: root creates a user
with a read-only inline policy and an access key (the secret read from the one page that
shows it), the user signs in in a fresh browser, is offered no deletion, and a DeleteUser
posted by hand with fetch() and the page's CSRF token is refused by the API; the simulator
shows decisions with the matched statement marked. Screenshots: users, user, policy,
simulator (docs/console/)."""

from checks_browser import console_log, start_browser
from checks_console import navigate, shot, sign_in
from harness import SECRET

READ_ONLY = ('{"Version":"2012-10-17","Statement":[{"Sid":"ReadIam","Effect":"Allow",'
             '"Action":["iam:Get*","iam:List*"],"Resource":"*"}]}')


def check_console_iam_read_only_user_and_simulator(server):
    from selenium.webdriver.common.by import By
    work = server.workdir("console_iam")
    driver = start_browser(work)
    try:
        sign_in(driver, server, "admin", SECRET)
        driver.get(server.url("admin", "/iam/users"))
        assert driver.find_elements(By.ID, "new_name"), (driver.current_url, driver.page_source)
        driver.find_element(By.ID, "new_name").send_keys("e2e-reader")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.create button"))
        assert "/iam/user?name=e2e-reader" in driver.current_url, driver.page_source
        driver.find_element(By.ID, "new_policy_name").send_keys("read-only")
        doc = driver.find_element(By.ID, "new_policy_doc")
        doc.clear()
        doc.send_keys(READ_ONLY)
        navigate(driver, doc.find_element(By.XPATH, "./ancestor::form//button"))
        navigate(driver, driver.find_element(By.XPATH, "//form[@action='/iam/user/keys']//button"))
        key_id = driver.find_element(By.ID, "new-key-id").text
        secret = driver.find_element(By.ID, "new-key-secret").text
        shot(driver, "user")
        driver.get(server.url("admin", "/iam/users"))
        shot(driver, "users")
        driver.get(server.url("admin", "/iam/policies"))
        driver.find_element(By.CSS_SELECTOR, "details summary").click()
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "details a"))
        shot(driver, "policy")

        driver.get(server.url("admin", "/simulator"))
        driver.find_element(By.ID, "actions").send_keys("iam:ListUsers, iam:DeleteUser")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.editor button"))
        decisions = driver.find_element(By.ID, "decisions").text
        assert "allowed" in decisions or "implicitDeny" in decisions, decisions
        shot(driver, "simulator")

        reader = start_browser(server.workdir("console_iam_reader"))
        try:
            sign_in(reader, server, key_id, secret)
            reader.get(server.url("admin", "/iam/user?name=e2e-reader"))
            assert not reader.find_elements(By.XPATH, "//form[@action='/iam/do']"), reader.page_source
            answer = reader.execute_script(
                """
                const token = document.querySelector("input[name=_csrf]").value;
                const body = new URLSearchParams({_csrf: token, action: "DeleteUser",
                    UserName: "e2e-reader", back: "/iam/users"});
                const r = await fetch("/iam/do", {method: "POST", body});
                return await r.text();
                """)
            assert "AccessDenied" in answer, answer
            errors = [e for e in reader.get_log("browser") if e.get("level") == "SEVERE"]
            assert not errors, console_log(reader)
        finally:
            reader.quit()
    finally:
        driver.quit()


CHECKS = [check_console_iam_read_only_user_and_simulator]
