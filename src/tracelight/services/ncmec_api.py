"""Adapter: NCMEC's CyberTipline Reporting API (`/submit`, `/upload`, `/fileinfo`, `/finish`,
`/retract`), used only by `tracelight report cybertip --submit` with a configured endpoint
and credentials. Nothing here runs by itself: a report is only ever sent when an analyst
asks, and without --submit the command is a dry run that writes files.

The submission never uploads image bytes: images travel as hashes in the report's
`additionalInfo`. `upload` and `fileinfo` exist for reporters whose policy is to attach files
(and are tested against the local fake server only). A failure after `/submit` retracts the
report, so no half-made report stays open at NCMEC.
"""

from __future__ import annotations

import base64
import secrets
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tracelight.errors import InputError, UsageError

MAX_RESPONSE = 1_000_000
TIMEOUT_S = 60
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ApiError(InputError):
    """The Reporting API refused a request or answered something unreadable."""


@dataclass(frozen=True, slots=True)
class ApiResponse:
    code: int
    description: str
    report_id: int | None = None
    file_id: str | None = None
    files: tuple[str, ...] = ()


@dataclass
class Submission:
    report_id: int
    finished: bool
    files: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # "POST /submit -> 0 Success", ...


def check_endpoint(url: str) -> str:
    """The base URL, refused unless https (http only to this machine, for tests)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"not an API address: {url!r} (set TRACELIGHT_NCMEC_URL)")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise UsageError("the Reporting API is only spoken to over https (http only to "
                         "127.0.0.1, for testing)")
    return url.strip().rstrip("/")


def _parse(body: bytes) -> ApiResponse:
    if len(body) > MAX_RESPONSE or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ApiError("the Reporting API's answer is not a plain XML response")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ApiError(f"the Reporting API's answer is not XML: {exc}") from None

    def text(tag: str) -> str | None:
        el = root.find(tag)
        return el.text.strip() if el is not None and el.text else None

    try:
        code = int(text("responseCode") or "")
        rid = text("reportId")
        return ApiResponse(code, text("responseDescription") or "",
                           int(rid) if rid else None, text("fileId"),
                           tuple(e.text.strip() for e in root.findall("files/fileId")
                                 if e.text))
    except ValueError:
        raise ApiError("the Reporting API's answer has no response code") from None


class ReportingApi:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base = check_endpoint(base_url)
        if not username or not password:
            raise UsageError("submitting needs the reporter's API user and password "
                             "(TRACELIGHT_NCMEC_USER, and the password in the environment "
                             "variable --password-env names)")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._auth = f"Basic {token}"

    def _post(self, path: str, body: bytes, content_type: str) -> ApiResponse:
        req = urllib.request.Request(self.base + path, data=body, method="POST", headers={
            "Authorization": self._auth, "Content-Type": content_type,
            "Accept": "application/xml", "User-Agent": "tracelight"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                data = resp.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            data = exc.read(MAX_RESPONSE + 1)
            try:
                answer = _parse(data)
            except ApiError:
                raise ApiError(f"POST {path}: HTTP {exc.code} {exc.reason}") from None
            raise ApiError(f"POST {path}: HTTP {exc.code}: {answer.code} "
                           f"{answer.description}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(f"POST {path}: cannot reach the Reporting API ({exc})") from None
        answer = _parse(data)
        if answer.code != 0:
            raise ApiError(f"POST {path}: refused: {answer.code} {answer.description}")
        return answer

    def _form(self, path: str, report_id: int) -> ApiResponse:
        return self._post(path, urllib.parse.urlencode({"id": str(report_id)}).encode(),
                          "application/x-www-form-urlencoded")

    def submit(self, report_xml: bytes) -> ApiResponse:
        return self._post("/submit", report_xml, "text/xml; charset=utf-8")

    def upload(self, report_id: int, name: str, data: bytes) -> ApiResponse:
        boundary = "tracelight-" + secrets.token_hex(12)
        safe = name.replace('"', "_").replace("\r", "_").replace("\n", "_")[:200]
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n'
                f"{report_id}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="{safe}"\r\nContent-Type: application/octet-stream'
                "\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self._post("/upload", body, f"multipart/form-data; boundary={boundary}")

    def fileinfo(self, file_details_xml: bytes) -> ApiResponse:
        return self._post("/fileinfo", file_details_xml, "text/xml; charset=utf-8")

    def finish(self, report_id: int) -> ApiResponse:
        return self._form("/finish", report_id)

    def retract(self, report_id: int) -> ApiResponse:
        return self._form("/retract", report_id)


def submit_report(api: ReportingApi, report_xml: bytes) -> Submission:
    """/submit then /finish; on a failure after /submit, /retract (and raise)."""
    first = api.submit(report_xml)
    if first.report_id is None:
        raise ApiError("POST /submit: the answer carries no reportId")
    sub = Submission(first.report_id, False, steps=[f"POST /submit -> {first.code} "
                                                    f"{first.description} (reportId "
                                                    f"{first.report_id})"])
    try:
        done = api.finish(first.report_id)
    except ApiError as exc:
        try:
            api.retract(first.report_id)
            sub.steps.append("POST /retract -> 0")
        except ApiError as again:
            raise ApiError(f"{exc}; retracting report {first.report_id} failed too: "
                           f"{again}") from None
        raise ApiError(f"{exc}; report {first.report_id} was retracted") from None
    sub.finished = True
    sub.files = list(done.files)
    sub.steps.append(f"POST /finish -> {done.code} (reportId {done.report_id})")
    return sub
