"""The composition root: builds every long-lived resource from the configuration (database
engine, HTTP session, one account client per account, the publisher, drafting, review) and
closes them in reverse order. The CLI and the web server both start here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.account.client import AccountClient
from bot.config import Config
from bot.content.sample import DEFAULT_COVER, SAMPLE_DIR
from bot.domain.errors import UserError
from bot.engine.drafting import Drafting
from bot.engine.publishing import PostPublisher
from bot.engine.review import ReviewActions
from bot.engine.shared_state import DatabaseCallRecorder, DatabaseTokenStore
from bot.engine.staging import Stager, stager_owner
from bot.engine.worker import Worker
from bot.store import db
from bot.store.health import HealthProbe

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: Config
    engine: AsyncEngine
    health: HealthProbe  # the health check's own connection (bot.store.health)
    clock: Clock
    session: aiohttp.ClientSession
    clients: dict[str, AccountClient]
    publishers: dict[str, PostPublisher]
    worker: Worker
    stager: Stager
    drafting: Drafting
    review: ReviewActions
    owner: str
    extras: dict[str, Any] = field(default_factory=dict)

    async def send_preview(self, post_id: int, *, openid: str = "", actor: str = "") -> str:
        """Preview a post on a reviewer's WeChat; ``openid`` defaults to the account's
        ``preview_openid``. Raises UserError, ConflictError, platform errors."""
        from bot.engine import offload
        from bot.store import posts as post_store

        async with self.engine.connect() as conn:
            post = await post_store.get(conn, post_id)
        account = self.config.account(post.account)
        # Its cover is read in the image lanes as the reviewer's, not the publisher's, whose
        # turn no one waits behind (security re-check 17, L2).
        with offload.owned_by(post_store.person(actor)):
            return await self.publishers[post.account].send_preview(
                post, openid or account.preview_openid, actor=actor
            )

    def slot_opened(self) -> None:
        """A slot took or drafted posts: the publisher (posts due now) and the stager (posts
        due within the lead) look at once."""
        self.worker.wake.set()
        self.stager.wake.set()

    def client(self, account: str) -> AccountClient:
        try:
            return self.clients[account]
        except KeyError:
            raise UserError(f"no account named {account!r}") from None


def process_owner() -> str:
    """Who holds leases: where (host and pid namespace), which process, and a random part so
    a restart never inherits a lease. ``bot.engine.worker.owner_is_gone`` reads it back."""
    return f"{local_place()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def local_place() -> str:
    """This machine and pid namespace: two processes with the same place see each other's
    pids, so one can tell that the other has died."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}/{namespace}"


async def load_local_or_remote(
    ref: str, session: aiohttp.ClientSession, base: Path, allowed: Sequence[Path]
) -> bytes:
    """Read an image: an http(s) URL is fetched safely (public addresses only); a local path
    must lie inside one of the ``allowed`` directories (media, templates, the project's
    samples, configured covers), so a post cannot send an arbitrary file from this machine."""
    if ref.startswith(("http://", "https://")):
        from bot.content.images import fetch_image

        return await fetch_image(ref, session=session)
    return await load_local(ref, base, allowed)


async def load_local(ref: str, base: Path, allowed: Sequence[Path]) -> bytes:
    """Read a local image inside one of the ``allowed`` directories; raises UserError for
    anything else, an http(s) URL included (publishing never fetches one: it uploads the copy
    drafting kept, security re-check 8, M3)."""
    if ref.startswith(("http://", "https://")):
        raise UserError(f"image {ref}: publishing reads only local files and kept copies")
    path = Path(ref)
    if not path.is_absolute():
        path = base / path
    resolved = path.resolve()
    if not any(resolved == root or resolved.is_relative_to(root) for root in allowed):
        raise UserError(
            f"image {ref}: {resolved} is outside the media and templates directories (a relative "
            f"path is read beside the template that names it, else from {base})"
        )
    try:
        return await asyncio.to_thread(resolved.read_bytes)
    except OSError as exc:
        raise UserError(f"image {ref}: cannot be read ({exc.strerror})") from None


# Connections drafting's image fetches may hold at once (each person's drafts at most
# bot.engine.loadable.LOADS_PER_PERSON of them).
DRAFTING_CONNECTIONS = 32


def allowed_image_roots(config: Config) -> list[Path]:
    roots = [config.media_dir, config.templates_dir, SAMPLE_DIR]
    base = config.path.resolve().parent if config.path else Path.cwd()
    for column in config.columns:
        if column.cover and not column.cover.startswith(("http://", "https://")):
            cover = Path(column.cover)
            roots.append(cover if cover.is_absolute() else base / cover)
    return [root.resolve() for root in roots]


@contextlib.asynccontextmanager
async def open_services(
    config: Config,
    *,
    clock: Clock = utc_now,
    owner: str | None = None,
    has_schedule: Callable[[str], bool] | None = None,
) -> AsyncIterator[Services]:
    owner = owner or process_owner()
    engine = db.open_engine(config.database_url)
    health = HealthProbe(config.database_url, fallback=engine)
    session = aiohttp.ClientSession()
    # Drafting's images (catalogue covers, images in a post's body: addresses editors give)
    # are fetched through a client of their own: a burst of fetches that hang cannot take the
    # connections the publisher needs to reach the platform (security re-check 7, M2).
    drafting_session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=DRAFTING_CONNECTIONS, limit_per_host=8)
    )
    try:
        tokens = DatabaseTokenStore(engine, clock)
        counter = DatabaseCallRecorder(engine, clock)
        base = config.path.resolve().parent if config.path else Path.cwd()

        roots = allowed_image_roots(config)

        async def load_image(ref: str) -> bytes:  # the publisher's local covers
            return await load_local(ref, base, roots)

        async def load_drafting_image(ref: str) -> bytes:
            return await load_local_or_remote(ref, drafting_session, base, roots)

        clients: dict[str, AccountClient] = {}
        publishers: dict[str, PostPublisher] = {}
        for account in config.accounts:
            client = AccountClient(
                account,
                session,
                tokens=tokens,
                counter=counter,
                clock=clock,
                owner=f"{owner}:{account.name}",
            )
            clients[account.name] = client
            publishers[account.name] = PostPublisher(
                engine=engine,
                account=account,
                api=client,
                settings=config.publisher,
                clock=clock,
                load_cover=load_image,
                callback_configured=account.token is not None,
            )

        async def upload(account: str, data: bytes, filename: str) -> str:
            return await clients[account].upload_content_image(data, filename)

        worker = Worker(
            engine=engine,
            publishers=publishers,
            clock=clock,
            owner=owner,
            concurrency=config.publisher.concurrency,
            lease_seconds=config.publisher.lease_seconds,
        )
        stager = Stager(
            engine=engine,
            publishers=publishers,
            clock=clock,
            owner=stager_owner(owner),
            lead_seconds=config.publisher.stage_ahead_seconds,
            lease_seconds=config.publisher.lease_seconds,
        )
        drafting = Drafting(
            engine=engine,
            config=config,
            clock=clock,
            upload_image=upload,
            load_image=load_drafting_image,
            has_schedule=has_schedule or _schedules_from_files(config),
            default_cover=DEFAULT_COVER,
        )
        yield Services(
            config=config,
            engine=engine,
            health=health,
            clock=clock,
            session=session,
            clients=clients,
            publishers=publishers,
            worker=worker,
            stager=stager,
            drafting=drafting,
            review=ReviewActions(
                engine,
                clock,
                allow_self_approval=config.web.allow_self_approval,
                quotas=lambda account: config.account(account).quota.daily,
            ),
            owner=owner,
        )
    finally:
        await session.close()
        await drafting_session.close()
        await engine.dispose()
        await health.close()


def _schedules_from_files(config: Config) -> Callable[[str], bool]:
    """Whether a column has a schedule, read from the schedules directory."""

    def has_schedule(column: str) -> bool:
        from bot.engine.schedules import load_schedules

        try:
            return any(s.column == column for s in load_schedules(config))
        except UserError:
            return False

    return has_schedule
