"""Static website hosting as a site owner sets it up: the aws CLI (`aws s3 website`,
`aws s3api get-bucket-website`, a public-read bucket policy, `aws s3 cp` of the pages), and
the pages fetched as a browser fetches them, with Python's http.client and the bucket in
the Host header."""

import http.client
import json
import os

from harness import WEBSITE_DOMAIN, aws, require_tool, write_file


def run(server, *args):
    """`aws ...` on the S3 port that must succeed; its JSON output parsed, if any."""
    require_tool("aws")
    out = aws(server, "s3", *args)
    assert out.returncode == 0, f"aws {' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    return json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}


def page(server, bucket, path, method="GET"):
    """(status, headers, body) of one website request; redirects are not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", server.ports["s3"], timeout=30)
    try:
        conn.request(method, path,
                     headers={"Host": f"{bucket}.{WEBSITE_DOMAIN}:{server.ports['s3']}"})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        conn.close()


def check_website_aws_cli_and_browser(server):
    bucket = "e2e-website"
    work = server.workdir("website")
    run(server, "s3api", "create-bucket", "--bucket", bucket)
    for name, text in [("index.html", "<h1>home</h1>"), ("blog/index.html", "<h1>blog</h1>"),
                       ("err.html", "<h1>not here</h1>")]:
        path = os.path.join(work, name)
        write_file(path, text.encode())
        run(server, "s3", "cp", path, f"s3://{bucket}/{name}", "--content-type", "text/html")

    run(server, "s3", "website", f"s3://{bucket}", "--index-document", "index.html",
        "--error-document", "err.html")
    config = run(server, "s3api", "get-bucket-website", "--bucket", bucket)
    assert config["IndexDocument"] == {"Suffix": "index.html"}, config
    assert config["ErrorDocument"] == {"Key": "err.html"}, config

    # Not public yet: new buckets block public access, so the site answers 403, in HTML.
    status, headers, body = page(server, bucket, "/")
    assert status == 403, (status, body)
    assert headers["content-type"].startswith("text/html"), headers
    assert "<h1>not here</h1>" not in body, body

    run(server, "s3api", "put-public-access-block", "--bucket", bucket,
        "--public-access-block-configuration",
        "BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,"
        "RestrictPublicBuckets=false")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]}]}
    run(server, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", json.dumps(policy))

    assert page(server, bucket, "/")[::2] == (200, "<h1>home</h1>")
    assert page(server, bucket, "/blog/")[::2] == (200, "<h1>blog</h1>")
    status, headers, _ = page(server, bucket, "/blog")
    assert (status, headers.get("location")) == (302, "/blog/"), (status, headers)
    assert page(server, bucket, "/nope.html")[::2] == (404, "<h1>not here</h1>")
    assert page(server, bucket, "/index.html", method="DELETE")[0] == 405
    assert page(server, bucket, "/")[::2] == (200, "<h1>home</h1>"), "still there"

    run(server, "s3api", "delete-bucket-website", "--bucket", bucket)
    out = aws(server, "s3", "s3api", "get-bucket-website", "--bucket", bucket)
    assert out.returncode != 0 and "NoSuchWebsiteConfiguration" in out.stderr, out.stderr
    status, _, body = page(server, bucket, "/")
    assert status == 404 and "NoSuchWebsiteConfiguration" in body, (status, body)
    run(server, "s3", "rb", f"s3://{bucket}", "--force")


CHECKS = [check_website_aws_cli_and_browser]
