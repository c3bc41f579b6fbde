#!/usr/bin/env python3
"""End-to-end checks with the clients users run (aws CLI, boto3, rclone, s3cmd, httpie)
against a real `labstore serve`. Usage: tests/e2e/run.py PATH/TO/labstore [NAME_PART...]

Starts the binary in a temp dir on free loopback ports, runs each check (only those whose
name contains one of NAME_PARTs, if given), stops it with SIGTERM, and prints
'e2e: N passed, N failed' as its last line (CI reads it). Exits non-zero on any failure,
and then keeps the temp dir (server log, local files) for a look.

Codemap: harness.py (server, clients, file helpers); oidc_issuer.py (an OpenID Connect
issuer's key file and signed tokens, for web identity); checks_iam.py; checks_s3_cli.py (aws
s3 / s3api); checks_boto3.py; checks_rclone.py; checks_s3cmd.py; checks_authz.py (the
home-folder setup with two users); checks_versions.py (object versions with the aws CLI,
boto3 and rclone); checks_cors.py (CORS rules with the aws CLI, a browser's preflight
and cross-origin GET by hand); checks_website.py (static website hosting: aws CLI, pages by
http.client); checks_post.py (browser form uploads: boto3's generate_presigned_post with
requests); checks_lifecycle.py (lifecycle rules with the aws CLI, expiry with a short day);
checks_sse.py (SSE-S3: aws CLI `--sse AES256`, boto3, rclone); checks_sse_https.py (SSE-S3 and SSE-C
over HTTPS: aws CLI `--sse`, `--sse-c`, boto3 SSECustomerKey, rclone `--s3-sse-customer-key`;
customer keys refused over plain HTTP); checks_sts.py (STS: `aws sts assume-role` then `aws s3 cp`, get-caller-identity, boto3, an expired session); checks_tls.py (a server of
its own over HTTPS in the development mode: aws CLI with --ca-bundle, boto3 with verify=,
rclone with --ca-cert); checks_console.py (the web console in headless Chromium: sign in, create a bucket,
screenshots into docs/console/); checks_diskfull.py (a server of its own on a 32 MiB tmpfs, root:
ENOSPC answered 503 SlowDown with nothing lost, the free-space floor); checks_browser.py (headless Chromium through Selenium's WebDriver: a page from another origin
uploads with a presigned PUT and form POSTs, reads back through CORS, and a static site from a
website bucket). Each check is a function
`check_*(server)` that owns its bucket names, so checks do not depend on each other's order.
"""

import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import urllib.request

# Set before the imports below: they load from the source tree, which stays free of __pycache__.
sys.dont_write_bytecode = True

import checks_authz
import checks_browser
import checks_boto3
import checks_console
import checks_console_iam
import checks_console_objects
import checks_cors
import checks_diskfull
import checks_iam
import checks_lifecycle
import checks_post
import checks_rclone
import checks_s3_cli
import checks_s3cmd
import checks_sse
import checks_sse_https
import checks_sts
import checks_tls
import checks_versions
import checks_website
from harness import SECRET, Server, isolate_from_user_config


def check_admin_endpoints(server):
    with urllib.request.urlopen(server.url("admin", "/health")) as r:
        assert r.status == 200
    with urllib.request.urlopen(server.url("admin", "/ready")) as r:
        assert json.load(r) == {"status": "ready"}


CHECKS = [check_admin_endpoints] + [
    check
    for module in (checks_iam, checks_s3_cli, checks_boto3, checks_rclone, checks_s3cmd,
                   checks_authz, checks_versions, checks_cors, checks_website, checks_post,
                   checks_lifecycle, checks_browser, checks_sts, checks_tls, checks_sse,
                   checks_sse_https,
                   checks_diskfull, checks_console, checks_console_iam,
                   checks_console_objects)
    for check in module.CHECKS
]


def run_checks(server, checks):
    passed = failed = 0
    for check in checks:
        started = time.monotonic()
        try:
            check(server)
            passed += 1
            print(f"ok   {check.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {check.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
            traceback.print_exc()
            sys.stderr.flush()
    return passed, failed


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    wanted = sys.argv[2:]
    checks = [c for c in CHECKS if not wanted or any(w in c.__name__ for w in wanted)]
    root = tempfile.mkdtemp(prefix="labstore-e2e-")
    isolate_from_user_config(root)
    server = Server(os.path.abspath(sys.argv[1]), root)
    try:
        passed, failed = run_checks(server, checks)
    finally:
        code = server.stop()
    if code != 0:
        failed += 1
        print(f"FAIL labstore exited {code} on SIGTERM\n{server.logs()}")
    else:
        passed += 1
        print("ok   sigterm_exits_zero")
    if SECRET in server.logs():
        failed += 1
        print("FAIL the root secret appeared in the logs")
    if failed:
        print(f"kept {root} (server.log and each check's files)")
    else:
        shutil.rmtree(root, ignore_errors=True)
    print(f"e2e: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
