"""The console's objects pages in headless Chromium: upload a 20 MiB file (multipart) and
watch its progress bar reach the end, browse into a prefix, download and compare bytes, share
a link and fetch it without credentials, hostile keys shown as text. Screenshots objects.png,
upload.png, object.png into docs/console/."""

import os
import time
import urllib.request

from checks_browser import console_log, start_browser
from checks_console import navigate, shot, sign_in
from harness import SECRET, boto3_client


def check_console_objects(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    work = server.workdir("console-objects")
    s3 = boto3_client(server, "s3", "s3")
    s3.create_bucket(Bucket="e2e-objects")
    hostile = ["<script>alert(1)</script>x", "\"><img src=x onerror=alert(1)>", "a\u202eb.txt"]
    for key in hostile:
        s3.put_object(Bucket="e2e-objects", Key=key, Body=b"bad")
    big = os.path.join(work, "big.bin")
    data = os.urandom(20 << 20)
    with open(big, "wb") as f:
        f.write(data)
    driver = start_browser(work)
    try:
        sign_in(driver, server, "admin", SECRET)
        driver.get(server.url("admin", "/objects?bucket=e2e-objects&prefix=up%2F"))
        driver.find_element(By.ID, "files").send_keys(big)
        driver.find_element(By.CSS_SELECTOR, "form.uploader button").click()
        deadline = time.time() + 120
        bar = driver.find_element(By.CSS_SELECTOR, ".uploads progress")
        while bar.get_attribute("data-done") != "true":
            assert time.time() < deadline, (driver.page_source, console_log(driver))
            time.sleep(0.2)
        assert float(bar.get_attribute("value")) == float(bar.get_attribute("max"))
        shot(driver, "upload")
        assert s3.get_object(Bucket="e2e-objects", Key="up/big.bin")["Body"].read() == data

        # Resumable: part 2 fails every try (the page's XMLHttpRequest made to fail), the
        # file waits with a Retry button; Retry sends only what is missing, and the object
        # is whole.
        driver.get(server.url("admin", "/objects?bucket=e2e-objects&prefix=up%2F"))
        driver.execute_script("""
            window.failPart2 = 3; window.sentParts = [];
            const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
            XMLHttpRequest.prototype.open = function (method, url) {
              this.target = String(url); return open.apply(this, arguments); };
            XMLHttpRequest.prototype.send = function () {
              const part = /partNumber=(\\d+)/.exec(this.target);
              if (part) window.sentParts.push(Number(part[1]));
              if (part && part[1] === "2" && window.failPart2 > 0) {
                window.failPart2 -= 1;
                setTimeout(() => this.onerror(new ProgressEvent("error")), 10);
                return;
              }
              return send.apply(this, arguments);
            };""")
        driver.find_element(By.ID, "files").send_keys(big)
        driver.find_element(By.CSS_SELECTOR, "form.uploader button").click()
        retry = driver.find_element(By.CSS_SELECTOR, ".uploads button")
        deadline = time.time() + 120
        while not retry.is_displayed():
            assert time.time() < deadline, (driver.page_source, console_log(driver))
            time.sleep(0.2)
        status = driver.find_element(By.CSS_SELECTOR, ".upload-status").text
        assert "part 2" in status, status
        retry.click()
        bar = driver.find_element(By.CSS_SELECTOR, ".uploads progress")
        while bar.get_attribute("data-done") != "true":
            assert time.time() < deadline, (driver.page_source, console_log(driver))
            time.sleep(0.2)
        sent = driver.execute_script("return window.sentParts")
        assert sent.count(1) == 1, f"part 1 sent again after the retry: {sent}"
        assert sent.count(2) == 4 and sent.count(3) == 1, sent
        assert s3.get_object(Bucket="e2e-objects", Key="up/big.bin")["Body"].read() == data
        driver.get(server.url("admin", "/objects?bucket=e2e-objects"))
        texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.list td a")]
        assert "\"><img src=x onerror=alert(1)>" in texts, texts
        assert "<script>alert(1)</" in texts, texts
        shot(driver, "objects")
        navigate(driver, driver.find_element(By.LINK_TEXT, "up/"))
        navigate(driver, driver.find_element(By.LINK_TEXT, "big.bin"))
        shot(driver, "object")
        href = driver.find_element(By.LINK_TEXT, "Download").get_attribute("href")
        cookie = driver.get_cookie(driver.get_cookies()[0]["name"])
        request = urllib.request.Request(href, headers={"Cookie": f"{cookie['name']}={cookie['value']}"})
        with urllib.request.urlopen(request) as answer:
            assert answer.read() == data
        Select(driver.find_element(By.ID, "expires")).select_by_value("3600")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.share button"))
        url = driver.find_element(By.ID, "share-url").get_attribute("value")
        with urllib.request.urlopen(url) as answer:
            assert answer.read() == data
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, console_log(driver)
    finally:
        driver.quit()


CHECKS = [check_console_objects]
