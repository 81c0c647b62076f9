"""Settings are declared once here: name, default and help.

The declaration drives the CLI's `--help` defaults, environment overrides (`TRACELIGHT_<NAME>`)
and docs/configuration.md (a test checks the doc lists every setting).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tracelight.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    kind: type = str

    @property
    def env(self) -> str:
        return "TRACELIGHT_" + self.name.upper()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("db", "sqlite:///tracelight.db",
                "Database URL: sqlite:///FILE (embedded default) or "
                "postgresql+psycopg://USER@HOST/DB (team/server backend)."),
        Setting("region", "US",
                "Default country (ISO 3166 alpha-2) for phone numbers written without a "
                "country code."),
        Setting("image_dir", "tracelight-images",
                "Folder of tracelight's own image store: checked ad images kept under their "
                "SHA-256; the database only holds hashes and that content key."),
        Setting("rooms_index_dir", "tracelight-rooms",
                "Folder of the room index (visual words and keypoints of the room gallery and "
                "of ad photos, derived from the stored photos; see docs/rooms.md)."),
        Setting("image_max_bytes", "20000000",
                "Largest image file read at ingest, in bytes. A bigger file is refused "
                "without reading it and becomes an image error on the ad.", int),
        Setting("ocr", "0",
                "1: read text inside ad images on ingest (OCR; about 0.3 CPU-seconds per new "
                "picture). 0: off."),
        Setting("batch_size", "500", "Ads per database transaction during ingest.", int),
        Setting("search_rank_cap", "5000",
                "Full-text search ranks at most this many matching ads (the first the index "
                "finds); a word in most ads is then answered in tens of milliseconds instead "
                "of seconds. The result says when more matched.", int),
        Setting("host", "127.0.0.1",
                "Address `tracelight serve` binds to. Anything but localhost must be asked "
                "for explicitly."),
        Setting("port", "8000", "Port `tracelight serve` listens on.", int),
        Setting("pdq_threshold", "31",
                "Largest PDQ Hamming distance counted as a match against a hash bank.", int),
        Setting("model_dir", "tracelight-models",
                "Folder where `tracelight train` keeps versioned risk models and their model "
                "cards; `rescore` uses the newest. Only load models you trained (pickles)."),
        Setting("catalogue", "",
                "Path of a custom risk indicator catalogue (YAML). Empty: the packaged "
                "src/tracelight/score/indicators.yaml."),
        Setting("max_body_bytes", "262144",
                "Largest title or body (UTF-8 bytes) a record may have; a longer one is "
                "rejected before extraction. 256 KiB is ten times the longest real ad and "
                "keeps the worst hostile body near a second (docs/security.md).", int),
        Setting("policy", "",
                "Path of a custom check policy (YAML) for `POST /api/v1/check`. Empty: the "
                "packaged src/tracelight/score/policy.yaml (docs/platform.md)."),
        Setting("api_max_body_bytes", "16777216",
                "Largest request body `POST /api/v1/check` and `POST /api/v1/ads` accept, in "
                "bytes (base64 images included); a larger one answers 413 unread.", int),
        Setting("webhook_allow_private", "0",
                "1: webhooks may be sent to private or loopback addresses (tests, an internal "
                "receiver). 0: only public http(s) addresses."),
        Setting("secret_key", "",
                "Key that signs session cookies. Empty: a random key is made and kept in the "
                "database, so sessions survive restarts without a secret in the repo."),
        Setting("token_cache_seconds", "5",
                "Seconds a server process answers a Bearer token it recently looked up from "
                "memory. A revocation (any process) or a disabled user is still seen within a "
                "second: a cheap fingerprint of the tokens is re-read every second. 0: look "
                "every call's token up in the database.", int),
        Setting("token_days", "90",
                "Days an API token stays valid after `tracelight token create` (1-3650); "
                "revoke one early with `tracelight token revoke ID`.", int),
        Setting("warc_dir", "tracelight-warc",
                "Folder of collected WARC files. An ad whose extra.warc names a record in a "
                "file here gets that original capture in its evidence bundle; references "
                "outside it are never followed."),
        Setting("reporter_email", "",
                "Email of the person filing CyberTipline reports (the report's reportingPerson; "
                "--reporter-email overrides it)."),
        Setting("reporter_name", "",
                "First and last name of the person filing CyberTipline reports "
                "(--reporter-name overrides it)."),
        Setting("ncmec_url", "",
                "Base URL of NCMEC's CyberTipline Reporting API for `tracelight report "
                "cybertip --submit`. Empty: nothing can be submitted."),
        Setting("ncmec_user", "",
                "User name of the registered reporter at the Reporting API. The password is "
                "only read from the environment variable --password-env names."),
    ]
}


def get(name: str) -> str:
    """The value of a setting: its environment override, else its default."""
    setting = SETTINGS[name]
    return os.environ.get(setting.env, setting.default)


def get_int(name: str) -> int:
    setting = SETTINGS[name]
    raw = get(name)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{setting.env}={raw!r} is not a whole number") from None
