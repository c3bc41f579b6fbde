"""CORS as a web app's operator sets it up: `aws s3api put-bucket-cors` from a JSON file,
`get-bucket-cors` and `delete-bucket-cors`; then what a browser sends, written by hand with
urllib: a preflight (OPTIONS, no credentials) allowed and refused, and a presigned GET carrying
`Origin`, whose answer a page may read only with the CORS headers."""

import json
import os
import urllib.error
import urllib.request

from harness import aws, boto3_client, require_tool, write_file

BUCKET = "e2e-cors"
APP = "http://app.example.com"


def cli(server, *args):
    """`aws s3api ...` that must succeed; its JSON output parsed."""
    require_tool("aws")
    out = aws(server, "s3", "s3api", *args)
    assert out.returncode == 0, f"aws s3api {' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip() else {}


def browser(url, method, headers):
    """One request as a browser sends it: (status, headers lowercased, body)."""
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def check_cors_aws_cli_rules_and_a_browser_preflight(server):
    work = server.workdir("cors")
    rules = {"CORSRules": [{
        "ID": "app",
        "AllowedOrigins": [APP],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3000,
    }]}
    path = os.path.join(work, "cors.json")
    write_file(path, json.dumps(rules).encode())
    cli(server, "create-bucket", "--bucket", BUCKET)
    out = aws(server, "s3", "s3api", "get-bucket-cors", "--bucket", BUCKET)
    assert out.returncode != 0 and "(NoSuchCORSConfiguration)" in out.stderr, out.stderr
    cli(server, "put-bucket-cors", "--bucket", BUCKET, "--cors-configuration", f"file://{path}")
    assert cli(server, "get-bucket-cors", "--bucket", BUCKET) == rules
    body = os.path.join(work, "page.txt")
    write_file(body, b"hello from s3\n")
    cli(server, "put-object", "--bucket", BUCKET, "--key", "page.txt", "--body", body)

    url = server.url("s3", f"/{BUCKET}/page.txt")
    status, headers, _ = browser(url, "OPTIONS", {
        "Origin": APP,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-amz-date",
    })
    assert status == 200, (status, headers)
    assert headers["access-control-allow-origin"] == APP, headers
    assert headers["access-control-allow-methods"] == "GET, PUT", headers
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date", headers
    assert headers["access-control-max-age"] == "3000", headers
    assert headers["access-control-allow-credentials"] == "true", headers

    status, headers, body = browser(url, "OPTIONS", {
        "Origin": "http://elsewhere.example.com",
        "Access-Control-Request-Method": "GET",
    })
    assert status == 403 and b"<Code>AccessForbidden</Code>" in body, (status, body)
    assert "access-control-allow-origin" not in headers, headers

    # The actual request: a presigned GET from the page's origin.
    s3 = boto3_client(server, "s3", "s3")
    signed = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "page.txt"}, ExpiresIn=300)
    status, headers, body = browser(signed, "GET", {"Origin": APP})
    assert (status, body) == (200, b"hello from s3\n"), (status, body)
    assert headers["access-control-allow-origin"] == APP, headers
    assert headers["access-control-expose-headers"] == "ETag", headers

    cli(server, "delete-bucket-cors", "--bucket", BUCKET)
    status, _, body = browser(url, "OPTIONS", {
        "Origin": APP, "Access-Control-Request-Method": "GET"})
    assert status == 403 and b"CORS is not enabled for this bucket." in body, (status, body)
    cli(server, "delete-object", "--bucket", BUCKET, "--key", "page.txt")
    cli(server, "delete-bucket", "--bucket", BUCKET)


CHECKS = [check_cors_aws_cli_rules_and_a_browser_preflight]
