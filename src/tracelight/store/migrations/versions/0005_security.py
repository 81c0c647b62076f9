"""Security: a hash chain over the audit log, TRUNCATE refused on PostgreSQL, token expiry.

- audit_log gains seq, prev_hash and row_hash; existing entries are chained in id order
  (the append-only triggers are dropped for that one UPDATE and made again straight after).
- audit_head holds the newest seq and hash (appends update it first: one writer at a time).
- PostgreSQL: a statement trigger refuses TRUNCATE of audit_log (row triggers never see it).
- api_tokens gains expires_at; tokens made before this migration expire 90 days after they
  were made (the default of TRACELIGHT_TOKEN_DAYS), so an old token stops working instead of
  living forever.

The chain's canonical content is frozen here on purpose (a copy, not an import): a migration
must compute what this schema version meant, whatever later code does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
GENESIS = "0" * 64
SQLITE_TRIGGERS = {
    f"audit_log_no_{verb.lower()}": f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} "
    "ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
}


def _hash(seq, at, username, action, target, reason, detail, ip, prev):
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    body = json.dumps({"seq": seq, "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                       "username": username, "action": action, "target": target,
                       "reason": reason, "detail": detail, "ip": ip, "prev": prev},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def _drop_row_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")


def _make_row_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    elif dialect == "postgresql":
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION tracelight_audit_append_only()")


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    op.add_column("audit_log", sa.Column("seq", sa.Integer))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(64)))
    op.create_table(
        "audit_head",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    log = sa.table("audit_log", sa.column("pk", sa.Integer), sa.column("at", TS),
                   sa.column("username", sa.String), sa.column("action", sa.String),
                   sa.column("target", sa.Text), sa.column("reason", sa.Text),
                   sa.column("detail", sa.JSON), sa.column("ip", sa.String),
                   sa.column("seq", sa.Integer), sa.column("prev_hash", sa.String),
                   sa.column("row_hash", sa.String))
    prev, seq, last_pk = GENESIS, 0, None
    chain = (sa.update(log).where(log.c.pk == sa.bindparam("_pk"))
             .values(seq=sa.bindparam("_seq"), prev_hash=sa.bindparam("_prev"),
                     row_hash=sa.bindparam("_hash"), target=sa.bindparam("_target")))
    _drop_row_triggers(dialect)
    while True:  # pages of 5,000 in id order: flat memory for a long log
        page = sa.select(log.c.pk, log.c.at, log.c.username, log.c.action, log.c.target,
                         log.c.reason, log.c.detail, log.c.ip).order_by(log.c.pk).limit(5000)
        if last_pk is not None:
            page = page.where(log.c.pk > last_pk)
        rows = list(bind.execute(page))
        if not rows:
            break
        params = []
        for r in rows:
            seq += 1
            digest = _hash(seq, r.at, r.username, r.action, r.target or "", r.reason,
                           r.detail, r.ip, prev)
            params.append({"_pk": r.pk, "_seq": seq, "_prev": prev, "_hash": digest,
                           "_target": r.target or ""})
            prev = digest
        bind.execute(chain, params)
        last_pk = rows[-1].pk
    _make_row_triggers(dialect)
    head = sa.table("audit_head", sa.column("name", sa.String), sa.column("seq", sa.Integer),
                    sa.column("hash", sa.String))
    bind.execute(sa.insert(head).values(name="audit", seq=seq, hash=prev))
    op.create_index("ux_audit_seq", "audit_log", ["seq"], unique=True)
    if dialect == "postgresql":
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tracelight_audit_append_only()")

    op.add_column("api_tokens", sa.Column("expires_at", TS))
    tokens = sa.table("api_tokens", sa.column("pk", sa.Integer),
                      sa.column("created_at", TS), sa.column("expires_at", TS))
    for t in list(bind.execute(sa.select(tokens.c.pk, tokens.c.created_at))):
        created = t.created_at or datetime.now(UTC)
        bind.execute(sa.update(tokens).where(tokens.c.pk == t.pk)
                     .values(expires_at=created + timedelta(days=90)))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.drop_column("api_tokens", "expires_at")
    op.drop_index("ux_audit_seq", "audit_log")
    op.drop_table("audit_head")
    # SQLite drops a column by rebuilding the table, which loses its triggers: make them again
    _drop_row_triggers(dialect)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    _make_row_triggers(dialect)
