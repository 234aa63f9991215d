"""Raw HTTP access to a running local stack, for the end-to-end and SDK tests.

A stack started by deploy/stack.sh describes itself in dev.json (base URL,
accounts, users, apps and their keys; see notes/CONTRACTS.md); the tests find
that file through the environment variable STACK_DEV_JSON. Requests go out
through http.client exactly as given, one connection each, so a test controls
the bytes on the wire: form parameters are an ordered list of pairs, and a raw
body or header can replace anything this module would build.
"""

import base64
import csv
import http.client
import io
import json
import os
import re
import shlex
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]{24}$")
# One existing list route per service (the readiness paths of stack.sh); each
# needs an API key.
SERVICE_ROUTES = {
    "svc-secrets": "/v1/apps/secrets",
    "svc-identity": "/v1/identity/verification_sessions",
    "svc-install": "/v1/events",
}


class StackMissing(Exception):
    """STACK_DEV_JSON is unset or does not name a readable dev.json."""


class PsqlError(Exception):
    """psql exited with an error (the message holds its stderr)."""


class Response(NamedTuple):
    """One HTTP exchange: status, headers (case-insensitive get) and the body,
    parsed when the response says it is JSON, else the raw bytes."""

    status: int
    headers: http.client.HTTPMessage
    body: object

    @property
    def error(self):
        """The Stripe error object of an error response ({"error": {...}})."""
        assert isinstance(self.body, dict), f"not a JSON object: {self.body!r:.300}"
        assert isinstance(self.body.get("error"), dict), f"no error object: {self.body!r:.300}"
        return self.body["error"]


def encode_form(pairs):
    """Encodes (name, value) pairs the way stripe-node does: brackets literal,
    everything else percent-encoded (space as %20), in the order given."""
    return "&".join(
        urllib.parse.quote(str(name), safe="[]") + "=" + urllib.parse.quote(str(value), safe="")
        for name, value in pairs
    )


def basic_auth(key):
    """The Authorization value for HTTP Basic with the key as the user name
    and an empty password (curl -u sk_test_...:)."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode("ascii")


class Stack:
    """A running stack as described by its dev.json."""

    def __init__(self, dev_json):
        self.dev_json = Path(dev_json).resolve()
        with open(self.dev_json, encoding="utf-8") as f:
            self.dev = json.load(f)
        self.base_url = self.dev["base_url"].rstrip("/")
        url = urllib.parse.urlsplit(self.base_url)
        if url.scheme != "http" or not url.hostname:
            raise StackMissing(f"{self.dev_json}: base_url must be http://HOST:PORT, not {self.base_url!r}")
        self.host = url.hostname
        self.port = url.port or 80
        self.accounts = self.dev["accounts"]
        self.users = self.dev["users"]
        self.apps = self.dev["apps"]
        # dev.json lives in STACK_DIR, next to the cluster (pg/) and logs (log/).
        self.dir = self.dev_json.parent
        self._pg_env = None

    @classmethod
    def from_env(cls):
        path = os.environ.get("STACK_DEV_JSON")
        if not path:
            raise StackMissing(
                "STACK_DEV_JSON is not set: start a stack (make run, or deploy/stack.sh start) and "
                "export STACK_DEV_JSON=<its STACK_DIR>/dev.json (var/dev.json for make run)"
            )
        try:
            return cls(path)
        except (OSError, ValueError, KeyError) as e:
            raise StackMissing(f"STACK_DEV_JSON={path}: cannot read the stack description: {e}") from e

    def api(self, method, path, params=(), *, key=None, basic=None, headers=(), body=None, timeout=30):
        """Sends one request and returns a Response.

        params: (name, value) pairs, form-encoded into the query string for
        GET and DELETE and into the body otherwise. key: sent as Bearer;
        basic: sent as HTTP Basic. headers: a dict or (name, value) pairs sent
        after everything else (a name given here replaces the built one).
        body: bytes or str sent verbatim instead of the encoded params."""
        method = method.upper()
        sent = {}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        if basic is not None:
            sent["Authorization"] = basic_auth(basic)
        form = encode_form(params)
        if body is None and method in ("GET", "DELETE", "HEAD"):
            if form:
                path += ("&" if "?" in path else "?") + form
        else:
            if body is None:
                body = form
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if isinstance(body, str):
            body = body.encode("utf-8")
        extra = headers.items() if isinstance(headers, dict) else headers
        for name, value in extra:
            for have in [h for h in sent if h.lower() == name.lower()]:
                del sent[have]
            sent[name] = value
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            # http.client adds Host, Accept-Encoding: identity and a Content-Length
            # for any body (0 for a POST without one), as the SDKs do.
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        parsed = raw
        if (resp.getheader("Content-Type") or "").startswith("application/json"):
            try:
                parsed = json.loads(raw)
            except ValueError as e:
                raise AssertionError(f"{method} {path}: Content-Type is JSON but the body is not: {raw!r:.300}") from e
        return Response(resp.status, resp.headers, parsed)

    def stack_sh(self, *args, timeout=120):
        """Runs deploy/stack.sh ARGS... against this stack (STACK_DIR is the
        directory holding dev.json; the other settings come from the
        environment, as `make test` exports them). Returns its output."""
        env = dict(os.environ, STACK_DIR=str(self.dev_json.parent))
        done = subprocess.run(
            [str(REPO / "deploy" / "stack.sh"), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"deploy/stack.sh {' '.join(args)} exited {done.returncode}:\n{done.stdout}")
        return done.stdout

    def pg_env(self):
        """The libpq environment of the stack's PostgreSQL as its superuser
        (deploy/pgctl.sh env STACK_DIR/pg), added to os.environ."""
        if self._pg_env is None:
            done = subprocess.run(
                [str(REPO / "deploy" / "pgctl.sh"), "env", str(self.dir / "pg")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                timeout=30,
            )
            if done.returncode != 0:
                raise AssertionError(f"deploy/pgctl.sh env {self.dir / 'pg'}: {done.stderr.strip()}")
            env = {}
            for line in done.stdout.splitlines():
                words = shlex.split(line)
                if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                    name, value = words[1].split("=", 1)
                    env[name] = value
            self._pg_env = env
        return dict(os.environ, **self._pg_env)

    def psql(self, sql, *params, timeout=60):
        """Runs sql (one or more statements) with psql as the cluster's
        superuser and returns the rows of its output, each a tuple of
        strings (NULL as ""). params are bound to the psql variables p1, p2,
        ... (use :'p1' for a literal, :"p1" for an identifier): they travel
        in the environment and reach the server quoted by psql, never pasted
        into the SQL. Raises PsqlError when psql fails."""
        env = self.pg_env()
        script = []
        for i, value in enumerate(params, 1):
            env[f"STACKAPI_P{i}"] = str(value)
            script.append(f"\\getenv p{i} STACKAPI_P{i}\n")
        script.append(sql)
        done = subprocess.run(
            ["psql", "-X", "-q", "--csv", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
            input="".join(script),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise PsqlError(done.stderr.strip())
        return [tuple(row) for row in csv.reader(io.StringIO(done.stdout, newline=""))]

    def service_logs(self, after, timeout=5):
        """The text of every log file in the stack, once the access line of
        the response `after` has reached the disk. The services buffer their
        access lines for up to a second (cm_log_access), in order, so a test
        that asserts something is absent from the logs must wait for a line
        written after its requests, or it could pass on an unwritten buffer."""
        marker = after.headers.get("Request-Id", "")
        assert marker, "the response has no Request-Id"
        logs = {}

        def flushed():
            logs.clear()
            for log in (self.dir / "log").iterdir():
                if log.is_file():
                    logs[log] = log.read_text(errors="replace")
            return any(marker in text for text in logs.values())

        assert wait_for(flushed, timeout), f"{marker} never reached the service logs"
        return logs

    def extension_token(self, user, account, app, livemode=False, ttl=300):
        """A dashboard UI-extension token (uxt_test_/uxt_live_...) for user
        acting on account through app, valid ttl seconds, issued as the
        dashboard backend does (core.create_extension_token). Raises
        PsqlError when the database refuses to issue it."""
        rows = self.psql(
            "SELECT core.create_extension_token(:'p1', :'p2', :'p3', :'p4'::boolean, :'p5'::integer);",
            user,
            account,
            app,
            "true" if livemode else "false",
            ttl,
        )
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]


def assert_stripe_error(resp, status, message=None, *, error_type="invalid_request_error", code=None):
    """Checks an error response: status, JSON content type, a well-formed
    Request-Id, the error type, and when given the code and the message, a
    plain string that must start the message or a compiled regex that must
    match it."""
    assert resp.status == status, f"expected HTTP {status}, got {resp.status}: {resp.body!r:.500}"
    content_type = resp.headers.get("Content-Type", "")
    assert re.match(r"^application/json(;|$)", content_type), f"Content-Type {content_type!r}"
    request_id = resp.headers.get("Request-Id", "")
    assert REQUEST_ID.match(request_id), f"Request-Id {request_id!r}"
    err = resp.error
    assert err.get("type") == error_type, err
    assert isinstance(err.get("message"), str) and err["message"], err
    if code is not None:
        assert err.get("code") == code, err
    if isinstance(message, str):
        assert err["message"].startswith(message), err["message"]
    elif message is not None:
        assert message.search(err["message"]), err["message"]
    return err


def assert_error(resp, status, *, error_type="invalid_request_error", code, param, message=None):
    """assert_stripe_error, and the code and param exactly: None means the
    error object must not carry that field (or carries null)."""
    err = assert_stripe_error(resp, status, message, error_type=error_type)
    assert err.get("code") == code, f"code: expected {code!r}, got {err!r}"
    assert err.get("param") == param, f"param: expected {param!r}, got {err!r}"
    return err


def wait_for(check, timeout, interval=0.2):
    """Calls check() until it returns a true value or timeout seconds pass;
    returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
