"""What every check module shares: the running server, the clients pointed at it, and
helpers to build, read and compare the files a user would upload and download.

Boundary: nothing here knows about a particular check; checks_*.py import from here and
never from each other.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SECRET = "e2e-root-secret-0123456789"
ACCESS_KEY = "admin"
REGION = "us-east-1"
MIB = 1024 * 1024
# The website endpoint's base domain (`backend.s3.website.base_domain`) the server runs with.
WEBSITE_DOMAIN = "website.lab"
LIFECYCLE_DAY_SECONDS = 1
# A subprocess that takes longer than this is hung, not slow: fail instead of waiting.
TOOL_TIMEOUT = 120


# The shortest STS session the e2e server issues (AWS's minimum is 900 seconds).
STS_MIN_DURATION = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`labstore serve` in its own directory on free loopback ports, ready when constructed.
    With tls="self-signed" every listener serves HTTPS with the development mode's
    certificate (`backend.tls.self_signed`); `ca_bundle` is then its path, which `url`'s
    https clients must trust (`aws`, `boto3_client` and `fetch` here pass it on). `env`
    adds (or overrides) LABSTORE_* variables, for a server of a check's own."""

    def __init__(self, binary, root, tls=None, env=None):
        assert tls in (None, "self-signed"), tls
        extra_env = env
        self.binary = binary
        self.root = root
        self.scheme = "https" if tls else "http"
        self.ca_bundle = None
        self.dir = os.path.join(root, "server")
        os.mkdir(self.dir)
        self.ports = {name: free_port() for name in ("admin", "iam", "s3")}
        # Where OpenID Connect providers' keys are read from (oidc_issuer.py writes them).
        self.jwks_dir = os.path.join(root, "oidc-jwks")
        os.mkdir(self.jwks_dir)
        env = dict(os.environ)
        env.pop("RUST_LOG", None)
        env.update({
            "LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY": SECRET,
            "LABSTORE_LOG_FORMAT": "json",
            # Static website hosting (checks_website.py): <bucket>.<this> on the S3 port.
            "LABSTORE_BACKEND_S3_WEBSITE_BASE_DOMAIN": WEBSITE_DOMAIN,
            # A lifecycle "day" of one second, a worker step every 100 ms: only buckets with
            # lifecycle rules are affected (checks_lifecycle.py).
            "LABSTORE_BACKEND_S3_LIFECYCLE_DAY_SECONDS": str(LIFECYCLE_DAY_SECONDS),
            "LABSTORE_BACKEND_S3_LIFECYCLE_INTERVAL_MS": "100",
            # Sessions as short as STS_MIN_DURATION seconds, to see one expire (checks_sts.py).
            "LABSTORE_BACKEND_IAM_STS_MIN_DURATION_SECONDS": str(STS_MIN_DURATION),
            # OpenID Connect providers' keys from files, never fetched (oidc_issuer.py).
            "LABSTORE_BACKEND_IAM_OIDC_JWKS_DIR": self.jwks_dir,
        })
        if tls == "self-signed":
            env["LABSTORE_BACKEND_TLS_SELF_SIGNED"] = "true"
            # keys_dir is ./keys, relative to the server's working directory.
            self.ca_bundle = os.path.join(self.dir, "keys", "tls-self-signed.crt")
        for name, port in self.ports.items():
            env[f"LABSTORE_BACKEND_{name.upper()}_SERVER_HOST"] = "127.0.0.1"
            env[f"LABSTORE_BACKEND_{name.upper()}_SERVER_PORT"] = str(port)
        env.update(extra_env or {})
        self.log_path = os.path.join(root, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "serve"], cwd=self.dir, env=env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                # The certificate exists once the server has written it; until then, wait.
                if self.ca_bundle is None or os.path.exists(self.ca_bundle):
                    with urllib.request.urlopen(self.url("admin", "/ready"), timeout=2,
                                                context=self.ssl_context()) as r:
                        if r.status == 200:
                            return
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("labstore did not become ready:\n" + self.logs())
            time.sleep(0.05)

    def url(self, listener, path=""):
        return f"{self.scheme}://127.0.0.1:{self.ports[listener]}{path}"

    def ssl_context(self):
        """What urllib trusts for this server: its certificate alone over https."""
        if self.ca_bundle is None:
            return None
        import ssl
        return ssl.create_default_context(cafile=self.ca_bundle)

    def host(self, listener):
        return f"127.0.0.1:{self.ports[listener]}"

    def workdir(self, name):
        """A fresh directory for one check's local files (removed with the run's root)."""
        return tempfile.mkdtemp(prefix=f"{name}-", dir=self.root)

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def isolate_from_user_config(root):
    """Points the AWS SDKs at empty config files so ~/.aws cannot change what a check tests
    (a profile's region, s3.signature_version or addressing_style would). Call before any
    client is built; subprocesses inherit it."""
    empty = os.path.join(root, "aws-empty-config")
    open(empty, "w").close()
    os.environ.update({"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty,
                       "AWS_EC2_METADATA_DISABLED": "true"})
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM"):
        os.environ.pop(name, None)


def require_tool(name):
    """Fails the check when a client is missing: CI installs every one (.ci/run), so a
    missing tool is a broken setup, never a reason to skip."""
    path = shutil.which(name)
    assert path, f"{name} is not installed (.ci/run installs it); this check cannot run"
    return path


def run_tool(argv, env=None, cwd=None, ok=True, stdin=None, text=True):
    """Runs a client; with ok=True a non-zero exit fails the check with its output.
    `stdin` (bytes, with text=False) is piped in; text=False keeps stdout as bytes."""
    out = subprocess.run(argv, env=env, cwd=cwd, input=stdin, capture_output=True, text=text,
                         timeout=TOOL_TIMEOUT)
    if ok:
        stdout = out.stdout if text else f"({len(out.stdout)} bytes)"
        stderr = out.stderr if text else out.stderr.decode(errors="replace")
        assert out.returncode == 0, (
            f"{' '.join(argv)} exited {out.returncode}\n"
            f"--- stdout\n{stdout}\n--- stderr\n{stderr}")
    return out


def aws_env(config_file=None):
    """The aws CLI's environment: root credentials, no retries (a retried 5xx would hide a
    server bug), no pager; `config_file` replaces the (empty) AWS_CONFIG_FILE."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION=REGION, AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    if config_file:
        env["AWS_CONFIG_FILE"] = config_file
    return env


def aws(server, listener, *args, config_file=None):
    """The aws CLI against one listener; the caller checks the exit code."""
    trust = ["--ca-bundle", server.ca_bundle] if server.ca_bundle else []
    return subprocess.run(["aws", "--endpoint-url", server.url(listener), *trust, *args],
                          env=aws_env(config_file), capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT)


def boto3_client(server, service, listener, **config):
    """A boto3 client with retries off (a retried 5xx would hide a server bug)."""
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=server.url(listener), region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
                        verify=server.ca_bundle if server.ca_bundle else None,
                        config=Config(retries={"max_attempts": 1}, **config))


def fetch(url, headers=None):
    """A plain HTTP GET, as a browser or curl would do with a presigned URL: (status, body)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


# Names a user's directory really holds: nesting, spaces, non-ASCII, characters that need
# URL-encoding in a path or a query (`+`, `&`, `=`, `%`), an empty file, a dotfile.
TREE = {
    "README.md": b"# project\n",
    ".hidden": b"dotfile\n",
    "empty.txt": b"",
    "docs/guide.txt": b"read me first\n" * 100,
    "docs/deep/er/nested.json": b'{"nested": true}\n',
    "photos/2024 summer/crème brûlée — 日本.txt":
        "été\n".encode(),
    "odd/a+b&c=d %25.txt": b"needs escaping\n",
}


def make_tree(root, extra=None):
    """Writes TREE (plus `extra`, relpath -> bytes) under root; returns what was written."""
    files = dict(TREE, **(extra or {}))
    for rel, data in files.items():
        write_file(os.path.join(root, rel), data)
    return files


def read_tree(root):
    """Every regular file under root as relpath -> bytes, to compare whole trees."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            files[os.path.relpath(path, root).replace(os.sep, "/")] = read_bytes(path)
    return files


def assert_same_tree(expected, root):
    """The tree under root holds exactly `expected` (relpath -> bytes), byte for byte."""
    got = read_tree(root)
    assert sorted(got) == sorted(expected), (
        f"missing {sorted(set(expected) - set(got))}, extra {sorted(set(got) - set(expected))}")
    for rel, data in expected.items():
        assert got[rel] == data, f"{rel}: {len(got[rel])} bytes differ from {len(data)} sent"


def expect_client_error(call, code, status=None):
    """Runs a boto3 call that must fail with an S3/IAM error `code` (and HTTP `status`)."""
    from botocore.exceptions import ClientError
    try:
        call()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e.response}"
        if status is not None:
            got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert got_status == status, f"expected HTTP {status}, got {got_status}"
        return e.response
    raise AssertionError(f"expected {code}, the call succeeded")
