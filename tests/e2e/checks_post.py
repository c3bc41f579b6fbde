"""Browser form uploads (PostObject) the way web apps make them: boto3's
generate_presigned_post (SigV4 policy) and a multipart/form-data POST with requests."""

import hashlib

from harness import boto3_client


def check_post_boto3_presigned_post_with_requests(server):
    """A presigned POST with conditions uploads through requests (default 204, then 201 with
    its XML), the object reads back with its Content-Type; a form that breaks its policy
    (a larger file than content-length-range, a key outside its prefix, an expired
    policy) is refused with S3's error, and nothing is stored."""
    import requests
    s3 = boto3_client(server, "s3", "s3")
    bucket = "e2e-post"
    s3.create_bucket(Bucket=bucket)
    post = s3.generate_presigned_post(
        Bucket=bucket, Key="uploads/${filename}",
        Fields={"Content-Type": "text/plain"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                    ["content-length-range", 1, 1024]],
        ExpiresIn=600)
    body = b"hello from a browser form"
    response = requests.post(post["url"], data=post["fields"],
                             files={"file": ("note.txt", body)}, timeout=30)
    assert response.status_code == 204, (response.status_code, response.text)
    assert response.headers["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', response.headers
    got = s3.get_object(Bucket=bucket, Key="uploads/note.txt")
    assert got["Body"].read() == body and got["ContentType"] == "text/plain", got

    created = s3.generate_presigned_post(
        Bucket=bucket, Key="created.txt", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}], ExpiresIn=600)
    response = requests.post(created["url"], data=created["fields"],
                             files={"file": ("x.txt", b"x")}, timeout=30)
    assert response.status_code == 201, (response.status_code, response.text)
    assert "<Key>created.txt</Key>" in response.text, response.text

    # Larger than the policy's content-length-range.
    response = requests.post(post["url"], data=post["fields"],
                             files={"file": ("big.txt", b"x" * 2048)}, timeout=30)
    assert response.status_code == 400 and "<Code>EntityTooLarge</Code>" in response.text, \
        (response.status_code, response.text)
    # A key outside the signed prefix.
    fields = dict(post["fields"], key="elsewhere/${filename}")
    response = requests.post(post["url"], data=fields,
                             files={"file": ("note.txt", body)}, timeout=30)
    assert response.status_code == 403 and "Policy Condition failed" in response.text, \
        (response.status_code, response.text)
    # An expired policy.
    expired = s3.generate_presigned_post(Bucket=bucket, Key="late.txt", ExpiresIn=-60)
    response = requests.post(expired["url"], data=expired["fields"],
                             files={"file": ("late.txt", b"late")}, timeout=30)
    assert response.status_code == 403 and "Policy expired" in response.text, \
        (response.status_code, response.text)

    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert sorted(listed) == ["created.txt", "uploads/note.txt"], listed
    for key in listed:
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


CHECKS = [check_post_boto3_presigned_post_with_requests]
