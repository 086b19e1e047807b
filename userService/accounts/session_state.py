"""The live state of a login session: what its access tokens stand for (the user's id, email,
username, phone number and roles) and whether they still stand (session not revoked, user active).
Validation reads it here (accounts.selectors), every write that changes it says so here
(accounts.services, accounts.admin). docs/auth.md, "Validation".

With a shared cache (Redis) the state is kept there by session id, so a validation that finds it
runs no SQL. Every change writes a new **stamp** for the session (``mark_sessions_changed``, the
stamp the other services' cached answers are checked against too); an entry remembers the stamp
under which it was read from the database, and one read under another stamp is read again. The
stamp is read *before* the database, in the same round trip as the entry: a change committed while
a validation reads the database leaves an entry that is stale on its first use, never one that
looks fresh.

With local-memory caches (``make run`` without ``REDIS_URL``: one cache per server worker) a
logout handled by one worker would stamp its own cache only, and another worker would go on
answering from its entry; so there every validation asks the database.
"""

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from accounts.models import LoginSession, User
from shop_common.auth import mark_sessions_changed, session_stamp_key
from shop_common.cache import cache_is_shared

_STATE_KEY = "auth:session-state:v1:{session_id}"
# Kept this much longer than an entry, so that an entry read before a change (under the stamp
# before it, or under none) has expired when the change's stamp does.
_STAMP_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class SessionState:
    user_id: int
    email: str
    username: str
    phone_number: str
    roles: tuple[str, ...]
    # Not revoked, and its user active: its tokens are good until they expire.
    live: bool


def _access_lifetime() -> int:
    return int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())


def entry_lifetime() -> int:
    """Seconds an entry is kept: ``SESSION_STATE_CACHE_TTL``, at most an access token's lifetime."""
    return max(0, min(settings.SESSION_STATE_CACHE_TTL, _access_lifetime()))


def state_key(session_id: str) -> str:
    return _STATE_KEY.format(session_id=session_id)


def session_state(session_id: str) -> SessionState | None:
    """The session's state (None: no such session), from the shared cache when it holds a fresh
    entry, else from the database (and then kept for the next validation)."""
    if not cache_is_shared() or entry_lifetime() <= 0:
        return _read_database(session_id)
    key, stamp_key = state_key(session_id), session_stamp_key(session_id)
    found = cache.get_many([key, stamp_key])
    stamp, entry = found.get(stamp_key), found.get(key)
    if entry is not None and entry[0] == stamp:
        return SessionState(*entry[1:])
    return _read_and_keep(session_id, stamp=stamp)


def remember_session(session_id: str) -> None:
    """Read the session's state into the shared cache once the transaction commits (a login, a
    refresh), so that the validations of its new access token start with a hit."""
    if cache_is_shared() and entry_lifetime() > 0:
        transaction.on_commit(
            lambda: _read_and_keep(session_id, stamp=cache.get(session_stamp_key(session_id)))
        )


def announce_session_change(session_ids: Iterable[str]) -> None:
    """The state of these sessions changed (revoked, their user deactivated, edited, given other
    roles): once the transaction commits, every entry about them here and every answer the other
    services cached about them is read again (at once with a shared Redis)."""
    session_ids = [str(session_id) for session_id in session_ids]
    if not session_ids:
        return
    stamp_lifetime = _access_lifetime() + _STAMP_MARGIN_SECONDS
    transaction.on_commit(lambda: mark_sessions_changed(session_ids, for_seconds=stamp_lifetime))


def announce_user_change(user_id: int) -> None:
    """Everything about the user's live sessions is read again (a profile or an admin edit)."""
    live = LoginSession.objects.filter(user_id=user_id, revoked_at__isnull=True)
    announce_session_change(live.values_list("pk", flat=True))


def _read_and_keep(session_id: str, *, stamp: str | None) -> SessionState | None:
    state = _read_database(session_id)
    if state is not None:
        entry = (stamp, *(getattr(state, name) for name in SessionState.__dataclass_fields__))
        cache.set(state_key(session_id), entry, timeout=entry_lifetime())
    return state


@functools.cache
def _session_sql() -> str:
    """The one query of a validation that misses the cache, written once: it runs on every
    authenticated request of every service without a shared cache, and building it through the
    ORM each time cost more than running it (docs/development.md, "Figures behind design
    choices")."""
    session, user = LoginSession._meta, User._meta
    user_roles = User.roles.through._meta
    role = User.roles.field.related_model._meta
    # Only table names from the models go into the text; every value is a query parameter.
    return (
        "SELECT s.user_id, s.revoked_at IS NULL, u.is_active, u.email, u.username, "  # noqa: S608
        f"u.phone_number, r.name "
        f"FROM {session.db_table} s "
        f"JOIN {user.db_table} u ON u.id = s.user_id "
        f"LEFT JOIN {user_roles.db_table} ur ON ur.user_id = u.id "
        f"LEFT JOIN {role.db_table} r ON r.id = ur.role_id "
        f"WHERE s.id = %s"
    )


def _read_database(session_id: str) -> SessionState | None:
    session_key = LoginSession._meta.pk.get_db_prep_value(uuid.UUID(session_id), connection)
    with connection.cursor() as cursor:
        cursor.execute(_session_sql(), [session_key])
        rows = cursor.fetchall()
    if not rows:
        return None
    user_id, not_revoked, active, email, username, phone_number, _ = rows[0]
    return SessionState(
        user_id=user_id,
        email=email,
        username=username,
        phone_number=phone_number,
        roles=tuple(sorted({row[6] for row in rows if row[6]})),
        live=bool(not_revoked) and bool(active),
    )
