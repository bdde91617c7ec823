"""The schema, as SQLAlchemy Core tables. Migrations in ``bot/store/migrations`` create it;
a test checks that they agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite keeps no offset); always read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite aggregate results come back as text
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


resources = sa.Table(
    "resources",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.Text, nullable=False, default=""),
    sa.Column("cover", sa.Text, nullable=False, default=""),
    sa.Column("tags", sa.JSON, nullable=False, default=list),
    sa.Column("source", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Why drafting could not load its cover ("" when it could or was never tried): such a
    # resource is passed over until ``cover_retry_at``, or until an import gives it another
    # cover (migration 0008).
    sa.Column("cover_problem", sa.Text, nullable=False, server_default=sa.text("''")),
    sa.Column("cover_retry_at", UTCDateTime, nullable=True),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("column_name", sa.String(100), nullable=False, index=True),
    sa.Column("account", sa.String(100), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("digest", sa.Text, nullable=False, default=""),
    sa.Column("markdown", sa.Text, nullable=False, default=""),
    sa.Column("content_html", sa.Text, nullable=False, default=""),
    sa.Column("content_source_url", sa.Text, nullable=False, default=""),
    sa.Column("cover", sa.Text, nullable=False, default=""),
    sa.Column("delivery", sa.String(20), nullable=False, default="publish"),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("stage", sa.String(20), nullable=False, default="new"),
    sa.Column("priority", sa.Integer, nullable=False, default=0),
    sa.Column("scheduled_for", UTCDateTime, nullable=True, index=True),
    sa.Column("slot_id", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=True, index=True),
    sa.Column("article_url", sa.Text, nullable=False, default=""),
    sa.Column("article_id", sa.Text, nullable=False, default=""),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("errcode", sa.Integer, nullable=True),
    sa.Column("thumb_media_id", sa.Text, nullable=False, default=""),
    sa.Column("draft_media_id", sa.Text, nullable=False, default=""),
    # Set while a queued post holds a draft made ahead of its slot: the articles' digest.
    sa.Column("staged_digest", sa.String(64), nullable=False, default="", server_default=""),
    # A mass send's clientmsgid, chosen at its first send (installation, post, a nonce).
    sa.Column("clientmsgid", sa.String(64), nullable=False, default="", server_default=""),
    sa.Column("publish_id", sa.String(64), nullable=False, default="", index=True),
    sa.Column("msg_id", sa.String(64), nullable=False, default=""),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("submitted_at", UTCDateTime, nullable=True),
    sa.Column("polls", sa.Integer, nullable=False, default=0),
    sa.Column("review_comment", sa.Text, nullable=False, default=""),
    sa.Column("needs_attention", sa.Boolean, nullable=False, default=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    sa.Column("source", sa.String(20), nullable=False, default="bot"),  # or "platform" (sync)
    # Who drafted the post and who last changed its content (user names; "" for the CLI and
    # the scheduler): review refuses a reviewer's own work (four eyes).
    sa.Column("created_by", sa.String(100), nullable=False, default="", server_default=""),
    sa.Column("edited_by", sa.String(100), nullable=False, default="", server_default=""),
    # The images kept for its http(s) covers, as a digest (part of its version; migration 0009).
    sa.Column("covers_digest", sa.String(64), nullable=False, default="", server_default=""),
)

post_resources = sa.Table(
    "post_resources",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("resource_id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),  # the kind when featured
    sa.Column("position", sa.Integer, nullable=False, default=0),
    # which of the post's articles features it: 0 is the headline (the post row itself)
    sa.Column("article", sa.Integer, nullable=False, default=0, server_default="0"),
)

# The articles of a multi-article post (多图文) after its headline. The headline's fields stay
# on the post row, so a single-article post has no row here and reads as it always did.
post_articles = sa.Table(
    "post_articles",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("position", sa.Integer, primary_key=True),  # 1..7: article 2..8 of the push
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("digest", sa.Text, nullable=False, default=""),
    sa.Column("markdown", sa.Text, nullable=False, default=""),
    sa.Column("content_html", sa.Text, nullable=False, default=""),
    sa.Column("content_source_url", sa.Text, nullable=False, default=""),
    sa.Column("cover", sa.Text, nullable=False, default=""),
    sa.Column("thumb_media_id", sa.Text, nullable=False, default=""),
    sa.Column("article_url", sa.Text, nullable=False, default=""),
)

publish_log = sa.Table(
    "publish_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("post_id", sa.Integer, nullable=True, index=True),
    sa.Column("account", sa.String(100), nullable=False, default=""),
    sa.Column("column_name", sa.String(100), nullable=False, default=""),
    sa.Column("step", sa.String(60), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("from_status", sa.String(20), nullable=False, default=""),
    sa.Column("to_status", sa.String(20), nullable=False, default=""),
    sa.Column("errcode", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=True),
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

slots = sa.Table(
    "slots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schedule", sa.String(100), nullable=False),
    sa.Column("column_name", sa.String(100), nullable=False),
    sa.Column("fire_at", UTCDateTime, nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=True),
    sa.Column("state", sa.String(20), nullable=False),  # opened | missed | empty
    sa.Column("posts", sa.Integer, nullable=False, default=0),
    sa.UniqueConstraint("schedule", "fire_at", name="uq_slots_schedule_fire_at"),
)

schedule_state = sa.Table(
    "schedule_state",
    metadata,
    sa.Column("schedule", sa.String(100), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

account_tokens = sa.Table(
    "account_tokens",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("access_token", sa.String(1024), nullable=False, default=""),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("refresh_owner", sa.String(100), nullable=True),
    sa.Column("refresh_until", UTCDateTime, nullable=True),
)

account_state = sa.Table(
    "account_state",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("parked_until", UTCDateTime, nullable=True),
    sa.Column("park_reason", sa.Text, nullable=False, default=""),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Column("last_error_at", UTCDateTime, nullable=True),
)

api_calls = sa.Table(
    "api_calls",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("endpoint", sa.String(60), primary_key=True),
    sa.Column("quota_day", sa.Date, primary_key=True),  # the Asia/Shanghai calendar day
    sa.Column("calls", sa.Integer, nullable=False, default=0),
    sa.Column("errors", sa.Integer, nullable=False, default=0),
)

media_cache = sa.Table(
    "media_cache",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(20), primary_key=True),  # "content" | "cover"
    sa.Column("media_id", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

callback_events = sa.Table(
    "callback_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(100), nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("handled_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("account", "dedupe_key", name="uq_callback_events_account_key"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
)

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_name", sa.String(100), nullable=False, index=True),
    sa.Column("address", sa.String(100), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
)

# A login, server-side: the cookie carries a random id, this table only its SHA-256, so
# deleting a row ends that login however many copies of the cookie exist.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.Integer,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# The cover a post's article takes from an http(s) URL, as drafting or an edit loaded and
# checked it when the post was stored (bot.content.images.kept_cover): publishing uploads these
# bytes and never fetches the editor's URL inside the account's one publishing lane (security
# re-check 8, M3). Released when the post is published or cancelled (migration 0009).
cover_copies = sa.Table(
    "cover_copies",
    metadata,
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    ),
    # The URL's SHA-256: a key of bounded size (a 2,000-character URL of Chinese characters
    # is more than PostgreSQL indexes).
    sa.Column("url_sha256", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("data_sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    # The person whose draft, edit or retry kept it ("" for schedules and the CLI): each
    # person's copies together have a limit (bot.store.cover_copies.PERSON_KEPT_BYTES).
    sa.Column("owner", sa.String(100), nullable=False, index=True),
    sa.Column("kept_at", UTCDateTime, nullable=False),
    # Last: SQLite reads a row's columns in order, so summing ``size`` skips the image.
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# Each callback push's signature with the hash of its body, kept for the freshness window:
# the same pair again is the platform retrying, the same signature with another body a replay.
callback_signatures = sa.Table(
    "callback_signatures",
    metadata,
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("signature", sa.String(64), primary_key=True),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    sa.Column("seen_at", UTCDateTime, nullable=False, index=True),
)

# One row: this installation's id, made when its database was created (mass-send
# clientmsgids carry it, so a second database never repeats another's).
installation = sa.Table(
    "installation",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

sa.Index("ix_posts_due", posts.c.status, posts.c.scheduled_for)
sa.Index("ix_posts_attention", posts.c.needs_attention, posts.c.id)
sa.Index("ix_login_attempts_ok_at", login_attempts.c.ok, login_attempts.c.at)
sa.Index("ix_publish_log_post_at", publish_log.c.post_id, publish_log.c.at)
