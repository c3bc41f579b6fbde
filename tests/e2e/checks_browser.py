"""A real browser against the store: headless Chromium (Debian's `chromium` and
`chromium-driver`) driven through WebDriver by Selenium. A page served by a small Python HTTP
server on another loopback port, so another origin than the S3 endpoint, uploads through a
presigned PUT and through HTML form POSTs (one sent by `fetch`, one a plain form submit into an
iframe that `success_action_redirect` brings back to the page's origin) and reads the objects
back with `fetch` on presigned GETs, all under the bucket's CORS rules; then the browser loads
a small static site from a website bucket (`<bucket>.website.lab`, mapped to 127.0.0.1 by
Chromium's host resolver rules). Nothing is fetched beyond the two local servers.

A failure says what failed: the page's results as the DOM shows them, and the browser's
console log."""

import html
import http.server
import json
import os
import shutil
import threading
import urllib.parse

from harness import WEBSITE_DOMAIN, boto3_client, free_port, write_file

# How long the page may take for all its requests, and the browser to load a page: Chromium
# shares two cores with the server and other jobs, so this is generous.
PAGE_TIMEOUT = 90

CHROMIUM_PACKAGES = "Debian's chromium and chromium-driver (apt-get install chromium " \
    "chromium-driver) and Selenium (pip install selenium); .ci/run installs them"


def start_browser(work):
    """Headless Chromium with a temp profile, its console log kept. Fails, naming the
    packages, when Chromium, its driver or Selenium is missing: never a silent skip."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        raise AssertionError(f"Selenium is missing ({e}): this check needs {CHROMIUM_PACKAGES}")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver_path = shutil.which("chromedriver")
    assert binary and driver_path, (
        f"chromium: {binary}, chromedriver: {driver_path}: this check needs {CHROMIUM_PACKAGES}")
    # Both paths are given, so Selenium Manager never looks anything up; SE_OFFLINE makes sure.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--no-proxy-server",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions",
                f"--user-data-dir={os.path.join(work, 'chromium-profile')}",
                # The website bucket's host name, <bucket>.website.lab, reaches the server.
                f"--host-resolver-rules=MAP *.{WEBSITE_DOMAIN} 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingOptions", {"browser": "ALL"})
    service = Service(executable_path=driver_path,
                      log_output=os.path.join(work, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(PAGE_TIMEOUT)
    return driver


def console_log(driver):
    try:
        entries = driver.get_log("browser")
    except Exception as e:  # noqa: BLE001 - only for a failure message
        return f"(no console log: {e})"
    return "\n".join(f"{e.get('level')} {e.get('message')}" for e in entries) or "(empty)"


class PageServer:
    """The web app's origin: serves `page` (set once the origin is known, as the page names
    it) at / and records the redirects that come back from a form upload
    (`/uploaded?bucket=…&key=…&etag=…`)."""

    def __init__(self):
        self.page = ""
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.redirects = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/":
                    body = server.page.encode()
                elif url.path == "/uploaded":
                    server.redirects.append(urllib.parse.parse_qs(url.query))
                    body = (f"<!doctype html><title>uploaded</title><p id='uploaded'>"
                            f"{html.escape(url.query)}</p>").encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def hidden_inputs(fields):
    return "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items())


# The page: two real forms (the file input last, as S3 reads fields only up to `file`; the
# buttons have no name, so they send no field the policy would have to allow), an iframe the
# second form submits into, and a script that runs the uploads and reads when #run is
# clicked, writing each result into #results as an element with an id.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LabStore browser check</title></head>
<body>
<form id="fetch-form" method="post" enctype="multipart/form-data" action="__POST_ACTION__">
__FETCH_FIELDS__
<input type="file" name="file" id="fetch-file">
</form>
<form id="submit-form" method="post" enctype="multipart/form-data" action="__REDIRECT_ACTION__"
      target="upload-frame">
__SUBMIT_FIELDS__
<input type="file" name="file" id="submit-file">
</form>
<iframe name="upload-frame" id="upload-frame"></iframe>
<button id="run" type="button">run</button>
<div id="results"></div>
<script>
const CONFIG = __CONFIG__;
function show(id, value) {
  const el = document.createElement("div");
  el.id = id;
  el.textContent = String(value);
  document.getElementById("results").appendChild(el);
}
function submitIntoFrame() {
  const frame = document.getElementById("upload-frame");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("form submit: no load in 60 s")), 60000);
    frame.onload = () => { clearTimeout(timer); resolve(frame); };
    document.getElementById("submit-form").submit();
  });
}
async function run() {
  try {
    // (1) A Blob uploaded with a presigned PUT (a preflight first: PUT, Content-Type).
    const put = await fetch(CONFIG.putUrl, {
      method: "PUT", headers: {"Content-Type": "text/plain"},
      body: new Blob([CONFIG.putBody], {type: "text/plain"}),
    });
    show("put-status", put.status);
    show("put-etag", put.headers.get("ETag"));
    // (2a) The form sent by fetch: a simple request, no preflight; the answer is readable
    // only with the CORS headers.
    const form = document.getElementById("fetch-form");
    const post = await fetch(form.action, {method: "POST", body: new FormData(form)});
    show("post-status", post.status);
    show("post-etag", post.headers.get("ETag"));
    show("post-body", await post.text());
    // Refusals are readable too: a file over the policy's content-length-range (refused
    // while it streams), and a key outside the policy's prefix.
    const big = new FormData(form);
    big.set("file", new File([new Uint8Array(CONFIG.bigSize)], "big.txt"));
    const tooLarge = await fetch(form.action, {method: "POST", body: big});
    show("big-status", tooLarge.status);
    show("big-body", await tooLarge.text());
    const elsewhere = new FormData(form);
    elsewhere.set("key", "elsewhere/${filename}");
    const outside = await fetch(form.action, {method: "POST", body: elsewhere});
    show("outside-status", outside.status);
    show("outside-body", await outside.text());
    // (2b) The plain form submit: 303 back to this origin, into the iframe.
    const frame = await submitIntoFrame();
    show("redirect-path", frame.contentWindow.location.pathname);
    show("redirect-query", frame.contentWindow.location.search);
    // (3) Each object read back with a presigned GET; a missing key's 404 is readable too.
    for (const [name, url] of Object.entries(CONFIG.getUrls)) {
      const got = await fetch(url);
      show(`get-${name}-status`, got.status);
      show(`get-${name}-etag`, got.headers.get("ETag"));
      show(`get-${name}-body`, await got.text());
    }
  } catch (e) {
    show("error", e && e.stack ? e.stack : e);
  }
  show("done", "done");
}
document.getElementById("run").addEventListener("click", run);
</script>
</body></html>
"""


def dom_results(driver):
    """Every result the page wrote, id -> text, as the DOM holds it."""
    return driver.execute_script(
        "const r = {}; for (const el of document.querySelectorAll('#results > [id]'))"
        " r[el.id] = el.textContent; return r;")


def wait_for(driver, condition, what):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(driver, PAGE_TIMEOUT).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}; the page shows "
                             f"{driver.title!r} at {driver.current_url}") from None


def check_browser_uploads_cors_and_website(server):
    from selenium.webdriver.common.by import By
    work = server.workdir("browser")
    s3 = boto3_client(server, "s3", "s3")
    # Web apps sign with either: boto3's default presigns with SigV2, `s3v4` with SigV4 (the
    # PUT URL then signs its Content-Type header too).
    s3v4 = boto3_client(server, "s3", "s3", signature_version="s3v4")
    bucket = "e2e-browser"
    s3.create_bucket(Bucket=bucket)
    put_body = "uploaded by fetch PUT from a Blob"
    fetch_body = b"uploaded by a form sent with fetch\n"
    submit_body = b"uploaded by a plain form submit\n"
    fetch_file = os.path.join(work, "form-fetch.txt")
    submit_file = os.path.join(work, "form-submit.txt")
    write_file(fetch_file, fetch_body)
    write_file(submit_file, submit_body)

    driver = start_browser(work)
    try:
        with PageServer() as pages:
            origin = pages.origin
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": [origin],
                "AllowedMethods": ["GET", "PUT", "POST"],
                "AllowedHeaders": ["Content-Type"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 60,
            }]})
            put_url = s3v4.generate_presigned_url(
                "put_object", ExpiresIn=600,
                Params={"Bucket": bucket, "Key": "put.txt", "ContentType": "text/plain"})
            fetch_post = s3v4.generate_presigned_post(
                Bucket=bucket, Key="forms/${filename}", ExpiresIn=600,
                Fields={"Content-Type": "text/plain", "success_action_status": "201"},
                Conditions=[["starts-with", "$key", "forms/"], {"Content-Type": "text/plain"},
                            {"success_action_status": "201"},
                            ["content-length-range", 1, 1024]])
            redirect_to = f"{origin}/uploaded"
            submit_post = s3.generate_presigned_post(
                Bucket=bucket, Key="forms/${filename}", ExpiresIn=600,
                Fields={"Content-Type": "text/plain", "success_action_redirect": redirect_to},
                Conditions=[["starts-with", "$key", "forms/"], {"Content-Type": "text/plain"},
                            {"success_action_redirect": redirect_to}])
            get_urls = {
                name: s3v4.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
                for name, key in [("put", "put.txt"), ("fetch", "forms/form-fetch.txt"),
                                  ("submit", "forms/form-submit.txt"),
                                  ("missing", "forms/missing.txt")]}
            config = {"putUrl": put_url, "putBody": put_body, "getUrls": get_urls,
                      "bigSize": 4 * 1024 * 1024}
            pages.page = (
                PAGE.replace("__POST_ACTION__", html.escape(fetch_post["url"]))
                .replace("__FETCH_FIELDS__", hidden_inputs(fetch_post["fields"]))
                .replace("__REDIRECT_ACTION__", html.escape(submit_post["url"]))
                .replace("__SUBMIT_FIELDS__", hidden_inputs(submit_post["fields"]))
                .replace("__CONFIG__", json.dumps(config).replace("</", "<\\/")))

            driver.get(origin + "/")
            # The files are chosen as a user chooses them: through the file inputs.
            driver.find_element(By.ID, "fetch-file").send_keys(fetch_file)
            driver.find_element(By.ID, "submit-file").send_keys(submit_file)
            driver.find_element(By.ID, "run").click()
            wait_for(driver, lambda d: d.find_elements(By.ID, "done"), "the page's requests")
            results = dom_results(driver)
            redirects = list(pages.redirects)
        context = f"\nDOM results: {json.dumps(results, indent=1)}\nconsole:\n" \
            f"{console_log(driver)}\nredirects seen by the page's origin: {redirects}"

        assert "error" not in results, f"the page's script failed{context}"
        stored = {o["Key"]: o["ETag"]
                  for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
        etags = {key: stored.get(key)
                 for key in ("put.txt", "forms/form-fetch.txt", "forms/form-submit.txt")}
        assert sorted(stored) == sorted(etags), f"objects stored: {stored}{context}"
        expected = {
            "put-status": "200", "put-etag": etags["put.txt"],
            "post-status": "201", "post-etag": etags["forms/form-fetch.txt"],
            "redirect-path": "/uploaded",
            "get-put-status": "200", "get-put-etag": etags["put.txt"],
            "get-put-body": put_body,
            "get-fetch-status": "200", "get-fetch-etag": etags["forms/form-fetch.txt"],
            "get-fetch-body": fetch_body.decode(),
            "get-submit-status": "200", "get-submit-etag": etags["forms/form-submit.txt"],
            "get-submit-body": submit_body.decode(),
            "get-missing-status": "404",
            "big-status": "400", "outside-status": "403",
        }
        wrong = {k: (results.get(k), v) for k, v in expected.items() if results.get(k) != v}
        assert not wrong, f"DOM results differ (got, expected): {wrong}{context}"
        assert "<Key>forms/form-fetch.txt</Key>" in results["post-body"], context
        assert "<Code>NoSuchKey</Code>" in results["get-missing-body"], context
        assert "<Code>EntityTooLarge</Code>" in results["big-body"], context
        assert "Policy Condition failed" in results["outside-body"], context
        query = urllib.parse.parse_qs(results["redirect-query"].lstrip("?"))
        assert query == {"bucket": [bucket], "key": ["forms/form-submit.txt"],
                         "etag": [etags["forms/form-submit.txt"]]}, f"{query}{context}"
        assert redirects == [query], context

        # The bytes as stored, read with boto3.
        for key, body, content_type in [("put.txt", put_body.encode(), "text/plain"),
                                        ("forms/form-fetch.txt", fetch_body, "text/plain"),
                                        ("forms/form-submit.txt", submit_body, "text/plain")]:
            got = s3.get_object(Bucket=bucket, Key=key)
            assert (got["Body"].read(), got["ContentType"]) == (body, content_type), key

        check_static_site(server, s3, driver)
    finally:
        driver.quit()
    for key in ("put.txt", "forms/form-fetch.txt", "forms/form-submit.txt"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


SITE = {
    "index.html": '<!doctype html><html><head><title>LabStore site</title></head><body>'
                  '<h1 id="heading">Welcome home</h1>'
                  '<a id="about-link" href="about.html">About us</a></body></html>',
    "about.html": '<!doctype html><html><head><title>About</title></head><body>'
                  '<h1 id="heading">About this site</h1></body></html>',
    "docs/index.html": '<!doctype html><html><head><title>Docs</title></head><body>'
                       '<h1 id="heading">The docs</h1></body></html>',
    "data.json": '{"posts": 3}',
    "error.html": '<!doctype html><html><head><title>Not found</title></head><body>'
                  '<h1 id="heading">Nothing here</h1></body></html>',
}


def check_static_site(server, s3, driver):
    """The website bucket as a visitor's browser sees it: the index document, a link to a
    second page, a folder's index document, the error document (with its 404) on a missing
    page; and a page from another origin reading the site with fetch under CORS rules."""
    from selenium.webdriver.common.by import By
    bucket = "e2e-browser-site"
    s3.create_bucket(Bucket=bucket)
    for key, text in SITE.items():
        content_type = "application/json" if key.endswith(".json") else "text/html"
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType=content_type)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            # ListBucket too: without it a missing page is 403, as S3 answers.
            "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]}]}))
    site = f"http://{bucket}.{WEBSITE_DOMAIN}:{server.ports['s3']}"

    def context():
        body = driver.find_elements(By.TAG_NAME, "body")
        return (f"\nat {driver.current_url}: title {driver.title!r}, body "
                f"{body[0].text if body else None!r}\nconsole:\n{console_log(driver)}")

    def heading():
        found = driver.find_elements(By.ID, "heading")
        return found[0].text if found else None

    driver.get(site + "/")
    assert (driver.title, heading()) == ("LabStore site", "Welcome home"), context()
    driver.find_element(By.ID, "about-link").click()
    wait_for(driver, lambda d: d.title == "About", "the about page after the link")
    assert driver.current_url == site + "/about.html", context()
    assert heading() == "About this site", context()
    # A folder without its slash: 302 to /docs/, whose index document is served.
    driver.get(site + "/docs")
    assert driver.current_url == site + "/docs/", context()
    assert (driver.title, heading()) == ("Docs", "The docs"), context()
    driver.get(site + "/missing.html")
    assert (driver.title, heading()) == ("Not found", "Nothing here"), context()
    # The status the browser saw, read from the site's own origin (no CORS involved).
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/missing.html').then(r => done(r.status), e => done(String(e)));")
    assert status == 404, f"{status}{context()}"

    # Another origin's page reads the site with fetch, under the bucket's CORS rules: a
    # data file, and the error document's 404.
    with PageServer() as pages:
        pages.page = "<!doctype html><title>elsewhere</title>"
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": [pages.origin], "AllowedMethods": ["GET"],
            "ExposeHeaders": ["ETag"]}]})
        driver.get(pages.origin + "/")
        read = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const read = async (url) => { const r = await fetch(url);"
            "  return [r.status, r.headers.get('ETag'), await r.text()]; };"
            "Promise.all([read(arguments[0]), read(arguments[1])])"
            "  .then(done, e => done(String(e)));",
            site + "/data.json", site + "/missing.html")
    etag = s3.head_object(Bucket=bucket, Key="data.json")["ETag"]
    expected = [[200, etag, SITE["data.json"]], [404, SITE["error.html"]]]
    got = [read[0], read[1][::2]] if isinstance(read, list) else read
    assert got == expected, (f"cross-origin reads of the site: {read}\nexpected {expected}"
                             f"\nconsole:\n{console_log(driver)}")

    for key in SITE:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


CHECKS = [check_browser_uploads_cors_and_website]
