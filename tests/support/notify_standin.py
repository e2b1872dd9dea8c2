"""A local stand-in for GOV.UK Notify's published v2 API, for tests: there is no Notify sandbox.

It serves, on a loopback port, what ``notifications-python-client`` calls to send a text or an
email and to read notifications back:

- ``POST /v2/notifications/sms`` and ``POST /v2/notifications/email`` (201 and the documented
  response body);
- ``GET /v2/notifications/{id}`` and ``GET /v2/notifications?reference=...``.

Like Notify it checks the ``Authorization: Bearer`` JWT (HS256, signed with the API key's
secret; ``iss`` the service ID; ``iat`` within 30 seconds of now), validates the request body
against the published request schema, the template (exists, right type, every placeholder
given) and the recipient (a UK mobile number, an email address), and answers errors in
Notify's shape ``{"status_code": N, "errors": [{"error": KIND, "message": TEXT}]}``: 400, 403,
404, and 429/500 on demand (``fail_next``). What it proves and does not: docs/messages.md.
"""

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import jwt

CLOCK_SKEW_SECONDS = 30
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = {"type": "string", "pattern": UUID_PATTERN}
_PERSONALISATION = {"type": "object"}
# The published request schemas of POST /v2/notifications/{sms,email}.
REQUEST_SCHEMAS: dict[str, dict[str, Any]] = {
    "sms": {
        "type": "object",
        "properties": {
            "reference": {"type": "string"},
            "phone_number": {"type": "string"},
            "template_id": _UUID,
            "personalisation": _PERSONALISATION,
            "sms_sender_id": _UUID,
        },
        "required": ["phone_number", "template_id"],
    },
    "email": {
        "type": "object",
        "properties": {
            "reference": {"type": "string"},
            "email_address": {"type": "string"},
            "template_id": _UUID,
            "personalisation": _PERSONALISATION,
            "email_reply_to_id": _UUID,
        },
        "required": ["email_address", "template_id"],
    },
}
UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")
CANNED_ERRORS = {
    429: (
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    500: ("Exception", "Internal server error"),
}


@dataclass
class Template:
    id: str
    type: str  # "sms" or "email"
    body: str
    subject: str = ""
    version: int = 1


@dataclass
class NotifyStandIn:
    service_id: str
    secret: str
    templates: dict[str, Template] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def api_key(self) -> str:
        """A key as Notify issues them: ``<key name>-<service id>-<secret>``."""
        return f"socialrx_test-{self.service_id}-{self.secret}"

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_template(self, type_: str, body: str, subject: str = "") -> str:
        template = Template(str(uuid.uuid4()), type_, body, subject)
        self.templates[template.id] = template
        return template.id

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next ``times`` sends with this status (429 or 500) before any check."""
        with self._lock:
            self._failures.extend([status] * times)

    def sent_with_reference(self, reference: str) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["reference"] == reference]

    def start(self) -> "NotifyStandIn":
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- requests ----------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        self.requests.append((method, url.path))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        auth_error = self._check_token(handler.headers.get("Authorization"))
        if auth_error:
            return _answer(handler, 403, _errors(403, "AuthError", auth_error))
        if method == "POST" and url.path in ("/v2/notifications/sms", "/v2/notifications/email"):
            with self._lock:
                failure = self._failures.pop(0) if self._failures else None
            if failure is not None:
                return _answer(handler, failure, _errors(failure, *CANNED_ERRORS[failure]))
            status, body = self._send(url.path.rsplit("/", 1)[1], raw)
            return _answer(handler, status, body)
        if method == "GET" and url.path == "/v2/notifications":
            reference = parse_qs(url.query).get("reference", [None])[0]
            found = [n for n in self.notifications if reference in (None, n["reference"])]
            links = {"current": f"{self.base_url}/v2/notifications"}
            return _answer(handler, 200, {"notifications": found, "links": links})
        if method == "GET" and url.path.startswith("/v2/notifications/"):
            notification_id = url.path.rsplit("/", 1)[1]
            if not re.match(UUID_PATTERN, notification_id):
                message = "notification_id is not a valid UUID"
                return _answer(handler, 400, _errors(400, "ValidationError", message))
            for notification in self.notifications:
                if notification["id"] == notification_id:
                    return _answer(handler, 200, notification)
            return _answer(handler, 404, _errors(404, "NoResultFound", "No result found"))
        return _answer(handler, 404, _errors(404, "NoResultFound", "No result found"))

    def _check_token(self, header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return "Unauthorized: authentication token must be provided"
        token = header.removeprefix("Bearer ")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            if jwt.get_unverified_header(token).get("alg") != "HS256":
                return "Invalid token: algorithm used is not HS256"
        except jwt.PyJWTError:
            return "Invalid token: signature, api token not found"
        if unverified.get("iss") != self.service_id:
            return "Invalid token: service not found"
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return "Invalid token: API key not found"
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int | float):
            return "Invalid token: iat field not provided"
        if abs(time.time() - issued_at) > CLOCK_SKEW_SECONDS:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return None

    def _send(self, kind: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            request = json.loads(raw)
        except ValueError:
            return 400, _errors(400, "ValidationError", "Invalid JSON supplied in POST data")
        validator = jsonschema.Draft4Validator(REQUEST_SCHEMAS[kind])
        problems = sorted(validator.iter_errors(request), key=lambda e: list(e.path))
        if problems:
            return 400, {
                "status_code": 400,
                "errors": [
                    {"error": "ValidationError", "message": _schema_message(p)} for p in problems
                ],
            }
        template = self.templates.get(request["template_id"])
        if template is None:
            return 400, _errors(400, "BadRequestError", "Template not found")
        if template.type != kind:
            message = f"{template.type} template is not suitable for {kind} notification"
            return 400, _errors(400, "BadRequestError", message)
        if kind == "sms" and not UK_MOBILE.match(re.sub(r"[\s()-]", "", request["phone_number"])):
            return 400, _errors(400, "ValidationError", "phone_number Not a UK mobile number")
        if kind == "email" and not EMAIL.match(request["email_address"]):
            message = "email_address Not a valid email address"
            return 400, _errors(400, "ValidationError", message)
        given = request.get("personalisation") or {}
        missing = [
            p for p in PLACEHOLDER.findall(template.body + template.subject) if p not in given
        ]
        if missing:
            message = f"Missing personalisation: {', '.join(sorted(set(missing)))}"
            return 400, _errors(400, "BadRequestError", message)
        body = PLACEHOLDER.sub(lambda m: str(given[m.group(1)]), template.body)
        notification_id = str(uuid.uuid4())
        uri = f"{self.base_url}/v2/notifications/{notification_id}"
        template_ref = {
            "id": template.id,
            "version": template.version,
            "uri": f"{self.base_url}/v2/template/{template.id}",
        }
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            self.notifications.append(
                {
                    "id": notification_id,
                    "reference": request.get("reference"),
                    "email_address": request.get("email_address"),
                    "phone_number": request.get("phone_number"),
                    "type": kind,
                    "status": "created",
                    "template": template_ref,
                    "body": body,
                    "subject": template.subject or None,
                    "created_at": now,
                    "sent_at": None,
                    "completed_at": None,
                }
            )
        content: dict[str, Any] = (
            {"body": body, "from_number": "socialrx"}
            if kind == "sms"
            else {"body": body, "subject": template.subject, "from_email": "socialrx@notify.test"}
        )
        return 201, {
            "id": notification_id,
            "reference": request.get("reference"),
            "content": content,
            "uri": uri,
            "template": template_ref,
        }


def _schema_message(problem: jsonschema.ValidationError) -> str:
    if problem.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", problem.message)
        return f"{missing[0] if missing else 'field'} is a required property"
    field_name = ".".join(str(p) for p in problem.path) or "request"
    if problem.validator == "pattern":
        return f"{field_name} is not a valid UUID"
    return f"{field_name} {problem.message}"


def _errors(status: int, kind: str, message: str) -> dict[str, Any]:
    return {"status_code": status, "errors": [{"error": kind, "message": message}]}


def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
