"""Table definitions (SQLAlchemy Core) for the whole store.

Queries use these objects, never hand-written dialect SQL; migrations under migrations/versions
create them. Ads, images, networks and hash banks live here; the web accounts, cases and
watchlists still define theirs in store/accounts.py and store/cases.py on the same `metadata`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

ads = Table(
    "ads", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("ad_id", String(512), nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("posted_at", DateTime(timezone=True)),
    Column("location", Text),
    Column("images", JSON, nullable=False, default=list),
    Column("extra", JSON, nullable=False, default=dict),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_run", Integer),  # ingest run that last wrote or saw this ad
    Column("risk", Float),
    Column("reasons", JSON),
    UniqueConstraint("source", "ad_id", name="uq_ads_source_ad_id"),
    Index("ix_ads_ad_id", "ad_id"),
    Index("ix_ads_posted_at", "posted_at"),
    Index("ix_ads_risk", "risk"),
)

ad_revisions = Table(
    "ad_revisions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("posted_at", DateTime(timezone=True)),
    Column("location", Text),
    Column("images", JSON, nullable=False),
    Column("extra", JSON, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("run_pk", Integer),
    UniqueConstraint("ad_pk", "revision", name="uq_ad_revisions_ad_rev"),
)

entities = Table(
    "entities", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("value", String(512), nullable=False),
    UniqueConstraint("kind", "value", name="uq_entities_kind_value"),
)

mentions = Table(
    "mentions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("entity_pk", Integer, ForeignKey("entities.pk"), nullable=False),
    Column("field", String(32), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("raw", Text, nullable=False, default=""),
    Column("obfuscated", Boolean, nullable=False, default=False),
    Index("ix_mentions_ad", "ad_pk"),
    Index("ix_mentions_entity", "entity_pk"),
)

images = Table(
    "images", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("md5", String(32), nullable=False),
    Column("pdq", String(64)),
    Column("quality", Integer),
    Column("width", Integer),
    Column("height", Integer),
    Column("stored_path", Text),
    Index("ix_images_md5", "md5"),
    Index("ix_images_pdq", "pdq"),
)

ad_images = Table(
    "ad_images", metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("image_pk", Integer, ForeignKey("images.pk")),
    Column("original", Text, nullable=False),
    Column("error", Text),
    Index("ix_ad_images_image", "image_pk"),
)

ingest_runs = Table(
    "ingest_runs", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running, done, failed, interrupted
    Column("paths", JSON, nullable=False),
    Column("read", Integer, nullable=False, default=0),
    Column("new", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("rejects_path", Text),
    Column("message", Text),
)

# ---- networks (migration 0004) ----------------------------------------------------------

TS = DateTime(timezone=True)

networks = Table(
    "networks", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("network_id", String(64), nullable=False, unique=True),
    Column("size", Integer, nullable=False),
    Column("first_seen", TS),
    Column("last_seen", TS),
    Column("risk_max", Float),
    Column("record", JSON, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_networks_size", "size"),
)

network_members = Table(
    "network_members", metadata,
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), primary_key=True),
    Column("network_pk", Integer, ForeignKey("networks.pk", ondelete="CASCADE"),
           nullable=False),
    Index("ix_network_members_network", "network_pk"),
)

network_evidence = Table(
    "network_evidence", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("network_pk", Integer, ForeignKey("networks.pk", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("strength", String(16), nullable=False),
    Column("score", Float),
    Column("ad_ids", JSON, nullable=False),
    Index("ix_network_evidence_network", "network_pk"),
    Index("ix_network_evidence_kind_value", "kind", "value"),
)

link_hubs = Table(
    "link_hubs", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("ads", Integer, nullable=False),
    Column("groups", Integer),
    Column("reason", Text, nullable=False),
    Column("example_ad", Text),
)

link_state = Table(
    "link_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

link_runs = Table(
    "link_runs", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("mode", String(16), nullable=False),
    Column("ads", Integer, nullable=False),
    Column("new_ads", Integer, nullable=False),
    Column("networks", Integer, nullable=False),
    Column("stats", JSON, nullable=False),
)

# ---- hash banks (migration 0002) ---------------------------------------------------------

MAX_BANK_NAME = 100

banks = Table(
    "banks", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_BANK_NAME), nullable=False, unique=True),
    Column("source", Text),  # file it was imported from
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

bank_hashes = Table(
    "bank_hashes", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("bank_pk", Integer, ForeignKey("banks.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # pdq, md5, sha1, sha256
    Column("value", String(64), nullable=False),
    Column("label", Text),
    UniqueConstraint("bank_pk", "kind", "value", name="uq_bank_hashes_bank_kind_value"),
    Index("ix_bank_hashes_kind_value", "kind", "value"),
)

bank_matches = Table(
    "bank_matches", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("bank_hash_pk", Integer, ForeignKey("bank_hashes.pk", ondelete="CASCADE"),
           nullable=False),
    Column("image_pk", Integer, ForeignKey("images.pk", ondelete="CASCADE"), nullable=False),
    Column("distance", Integer, nullable=False),
    Column("matched_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # new, reviewed, dismissed
    UniqueConstraint("bank_hash_pk", "image_pk", name="uq_bank_matches_hash_image"),
    Index("ix_bank_matches_image", "image_pk"),
)

# ---- follow the money (migration 0007) ---------------------------------------------------

fin_accounts = Table(
    "fin_accounts", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("business_type", String(200), nullable=False, default=""),
    Column("opened", String(200), nullable=False, default=""),
    Column("phone", String(200), nullable=False, default=""),
    Column("email", String(200), nullable=False, default=""),
    Column("handle", String(200), nullable=False, default=""),
    Column("crypto", String(200), nullable=False, default=""),
    Column("address", String(200), nullable=False, default=""),
    Column("city", String(200), nullable=False, default=""),
    Column("region", String(200), nullable=False, default=""),
    Column("country", String(3), nullable=False, default=""),
    Column("opening_hours", String(20), nullable=False, default=""),
)

fin_transactions = Table(
    "fin_transactions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("tx_id", String(128), nullable=False, unique=True),
    Column("ts", DateTime(timezone=True), nullable=False),  # UTC
    Column("tz_minutes", Integer, nullable=False, default=0),  # the offset as written
    Column("amount", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("from_account", String(128), nullable=False, default=""),
    Column("to_account", String(128), nullable=False, default=""),
    Column("channel", String(16), nullable=False),
    Column("merchant", String(200), nullable=False, default=""),
    Column("mcc", String(4), nullable=False, default=""),
    Column("city", String(200), nullable=False, default=""),
    Column("region", String(200), nullable=False, default=""),
    Column("country", String(3), nullable=False, default=""),
    Index("ix_fin_tx_ts", "ts", "pk"),
    Index("ix_fin_tx_from", "from_account"),
    Index("ix_fin_tx_to", "to_account"),
)

fin_alerts = Table(
    "fin_alerts", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(32), nullable=False, unique=True),
    Column("account_id", String(128), nullable=False),
    Column("typologies", JSON, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("linked_ads", JSON, nullable=False),
    Column("linked_networks", JSON, nullable=False),
    Column("score_reasons", JSON, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Index("ix_fin_alerts_score", "score"),
    Index("ix_fin_alerts_account", "account_id"),
)

fin_account_ads = Table(
    "fin_account_ads", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(128), nullable=False),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(200), nullable=False),
    UniqueConstraint("account_id", "ad_pk", "kind", "value", name="uq_fin_account_ads"),
    Index("ix_fin_account_ads_ad", "ad_pk"),
)

# What the crawler last saw at each URL of a site profile (tracelight crawl): a re-crawl sends
# ETag/Last-Modified back and ingests an ad only when its content hash changed.
crawl_pages = Table(
    "crawl_pages", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("profile", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("kind", String(8), nullable=False),  # ad, listing
    Column("status", Integer),  # HTTP status of the last fetch
    Column("content_hash", String(64)),  # extracted ad (ads only)
    Column("etag", Text),
    Column("last_modified", Text),
    Column("warc_file", Text),
    Column("warc_offset", Integer),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("profile", "url", name="uq_crawl_pages_profile_url"),
)

# ---- authorship links and Bitcoin payments (migration 0010) --------------------------------

author_links = Table(
    "author_links", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("ad_a_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("ad_b_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("score", Float, nullable=False),
    Column("matched", JSON, nullable=False),  # the habits that agree, in words
    Column("created_at", DateTime(timezone=True), nullable=False),
    # at or over the model's threshold for <= 1% FPR (migration 0014): only these join networks
    Column("linkable", Boolean, nullable=False, server_default=true()),
    UniqueConstraint("ad_a_pk", "ad_b_pk", name="uq_author_links_pair"),
    Index("ix_author_links_b", "ad_b_pk"),
)

# ---- Bitcoin attributions (migration 0014): which owner paid for (or wrote the address in) an
# ad, with the payment's time delta, amount difference and confidence; `strength` medium when
# the owner cluster is specific (those join networks), weak otherwise. `btc_addresses`: the
# addresses of the owners that have an attribution (owner pages).
btc_attributions = Table(
    "btc_attributions", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False,
           unique=True),
    Column("owner", String(130), nullable=False),
    Column("via", String(16), nullable=False),  # payment | written
    Column("txid", String(100)),
    Column("paid_at", DateTime(timezone=True)),
    Column("delay_s", Float),
    Column("amount_btc", Float),
    Column("amount_usd", Float),
    Column("price_usd", Float),
    Column("diff_usd", Float),
    Column("candidates", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("strength", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_btc_attributions_owner", "owner"),
)

btc_addresses = Table(
    "btc_addresses", metadata,
    Column("address", String(120), primary_key=True),
    Column("owner", String(130), nullable=False),
    Index("ix_btc_addresses_owner", "owner"),
)

btc_txs = Table(
    "btc_txs", metadata,
    Column("txid", String(100), primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),  # [[address, btc], ...]
    Index("ix_btc_txs_time", "time"),
)

# ---- triage (migration 0011): review state per ad / network, and verdicts kept as labels ----
# kind "ad" refs the ad's internal key (as text), "network" a network id. `seen` is what the
# target looked like when it was last marked (an ad's revision, a network's size), so the
# queue can show a closed target again when it changed.
reviews = Table(
    "reviews", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("ref", String(600), nullable=False),
    Column("state", String(32), nullable=False),
    Column("assignee", String(64)),
    Column("reason", Text),
    Column("case_pk", Integer),
    Column("follow_up", DateTime(timezone=True)),
    Column("seen", Integer),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "ref", name="uq_reviews_kind_ref"),
    Index("ix_reviews_state", "state"),
    Index("ix_reviews_assignee", "assignee"),
)

# an analyst's verdict on one ad (1: escalated, 0: no concern), append-only, newest wins
review_labels = Table(
    "review_labels", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("ad_pk", Integer, ForeignKey("ads.pk", ondelete="CASCADE"), nullable=False),
    Column("label", Integer, nullable=False),
    Column("state", String(32), nullable=False),
    Column("reason", Text),
    Column("via", String(600)),  # "network ID" when a whole network was marked
    Column("labelled_by", String(64), nullable=False),
    Column("labelled_at", DateTime(timezone=True), nullable=False),
    Index("ix_review_labels_ad", "ad_pk"),
)

# ---- "since my last visit" (migration 0018): per user and page, what the user has seen ----
# seen_at: everything before it counts as seen (moved only by marking the visit seen: the
# page's button, logging out, or the next login); shown_until: the newest time the page
# showed this visit, applied when the visit ends, so refreshing the page loses nothing.
visits = Table(
    "visits", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("page", String(32), nullable=False),
    Column("seen_at", DateTime(timezone=True)),
    Column("shown_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("username", "page", name="uq_visits_user_page"),
)

# ---- room gallery (migration 0016): hotels and their room photos, for hotel-room matching ----
# Photo bytes live in the content-addressed image store (tracelight/blobs.py), like ad images;
# the index of their features is a derived folder (setting rooms_index_dir), rebuilt from these.
room_hotels = Table(
    "room_hotels", metadata,
    Column("hotel_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("chain", Text),
    Column("address", Text),
    Column("city", String(200)),
    Column("country", String(8)),
    Column("lat", Float),
    Column("lon", Float),
    Index("ix_room_hotels_city", "city"),
    Index("ix_room_hotels_country", "country"),
)

room_images = Table(
    "room_images", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("hotel_id", String(64), ForeignKey("room_hotels.hotel_id", ondelete="CASCADE"),
           nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("keypoints", Integer),
    Column("source", Text),  # the file name it came from (display only, never opened again)
    Column("added_at", DateTime(timezone=True), nullable=False),
    Index("ix_room_images_hotel", "hotel_id"),
)

# a photo uploaded to match, attached to a case with the hotel candidates shown then
# (migration 0019); the bytes are in the content-addressed image store, keyed on SHA-256
room_uploads = Table(
    "room_uploads", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("case_pk", Integer, ForeignKey("cases.pk", ondelete="CASCADE"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("attached_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("exclude", String(100), nullable=False, server_default=""),
    Column("candidates", JSON, nullable=False),
    UniqueConstraint("case_pk", "sha256", name="uq_room_uploads"),
)
