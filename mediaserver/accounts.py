"""Accounts: creating users, checking and changing passwords (werkzeug's `generate_password_hash`,
scrypt by default), and sign-in sessions that can be ended (a row each, `models.UserSession`), for the
sign-in routes (`web/auth.py`), the party socket and `flask users` (`cli.py`). The database is imported
when an account is looked at, so that the command line reads the rules below without it."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

if TYPE_CHECKING:
    from .models import User, UserSession

USERNAME_MAX = 64  # the users.username column's length
PASSWORD_MIN = 8  # NIST SP 800-63B: at least 8 characters for a chosen password


def create_user(username: str, password: str, is_admin: bool = False) -> User:
    """Add a user. Raises ValueError for a bad name or a short password, or a taken name."""
    from sqlalchemy.exc import IntegrityError

    from .db import get_db
    from .models import User

    username = username.strip()
    if not username or len(username) > USERNAME_MAX:
        raise ValueError(f"the user name must be 1 to {USERNAME_MAX} characters")
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"the password must be at least {PASSWORD_MIN} characters")
    db = get_db()
    user = User(username=username, password_hash=generate_password_hash(password), is_admin=is_admin)
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ValueError(f"the user name {username!r} is taken") from None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user whose name and password match, or None."""
    from sqlalchemy import select

    from .db import get_db
    from .models import User

    user = get_db().scalar(select(User).where(User.username == username))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def has_users() -> bool:
    """Whether any account exists (no account: the set-up page is offered)."""
    from sqlalchemy import func, select

    from .db import get_db
    from .models import User

    return bool(get_db().scalar(select(func.count()).select_from(User)))


# --- sign-in sessions: one `UserSession` row per signed-in browser or script ------------------------

#: How often (s) a session's `last_seen_at` is written: a request within this of the last write
#: writes nothing, so serving segments to a logged-in browser costs no database write.
SEEN_EVERY_S = 300
#: A session not seen for this long (s) has ended: a browser closed without logging out leaves its
#: row behind, and its cookie stops working after 30 days idle (Flask's PERMANENT_SESSION_LIFETIME is
#: 31 days). Such rows are deleted at the user's next login.
IDLE_LIMIT_S = 30 * 24 * 3600
USER_AGENT_MAX = 200  # the user_sessions.user_agent column's length
ADDRESS_MAX = 64  # the user_sessions.address column's length


def _hash(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def start_session(user: User, user_agent: str, address: str) -> str:
    """Record a new sign-in of `user` and return its secret (32 random bytes, URL-safe), for the
    session cookie; only its SHA-256 is stored. The user's sessions idle IDLE_LIMIT_S or longer are
    deleted."""
    import secrets

    from .db import get_db
    from .models import UserSession

    from datetime import timedelta

    from sqlalchemy import delete

    from .models import utcnow

    secret = secrets.token_urlsafe(32)
    db = get_db()
    db.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.last_seen_at < utcnow() - timedelta(seconds=IDLE_LIMIT_S)))
    db.add(UserSession(user_id=user.id, token_hash=_hash(secret), user_agent=(user_agent or "")[:USER_AGENT_MAX],
                       address=(address or "")[:ADDRESS_MAX]))
    db.commit()
    return secret


def session_user(secret: str | None, now: datetime) -> tuple[UserSession, User] | None:
    """The live session whose secret is `secret` and its user, or None (no such session: it ended,
    never was, or was idle IDLE_LIMIT_S or longer at `now`). Refreshes `last_seen_at` when older than
    SEEN_EVERY_S at `now` (aware UTC)."""
    if not isinstance(secret, str) or not secret:
        return None
    from sqlalchemy import select

    from .db import get_db
    from .models import User, UserSession, as_utc

    db = get_db()
    found = db.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                       .where(UserSession.token_hash == _hash(secret))).first()
    if found is None:
        return None
    row, user = found
    idle_s = (now - as_utc(row.last_seen_at)).total_seconds()
    if idle_s >= IDLE_LIMIT_S:
        return None
    if idle_s >= SEEN_EVERY_S:
        row.last_seen_at = now
        db.commit()
    return row, user


def end_session(secret: str | None) -> None:
    """Log out: delete the session whose secret is `secret` (nothing when there is none)."""
    if not isinstance(secret, str) or not secret:
        return
    from sqlalchemy import delete

    from .db import get_db
    from .models import UserSession

    db = get_db()
    db.execute(delete(UserSession).where(UserSession.token_hash == _hash(secret)))
    db.commit()


def end_session_by_id(user: User, session_id: int) -> bool:
    """End one of `user`'s own sessions by its id; False when `user` has none with that id."""
    from sqlalchemy import delete

    from .db import get_db
    from .models import UserSession

    db = get_db()
    ended = db.execute(delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id))
    db.commit()
    return bool(ended.rowcount)


def sessions_of(user: User) -> list[UserSession]:
    """`user`'s live sessions, the most recently seen first."""
    from sqlalchemy import select

    from .db import get_db
    from .models import UserSession

    return list(get_db().scalars(select(UserSession).where(UserSession.user_id == user.id)
                                 .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))


def end_all_sessions(user: User) -> None:
    """Log `user` out everywhere: delete every session and move `token_epoch` on, which kills every
    stream token issued to the user before (an edge that checks tokens alone: within the token TTL)."""
    from sqlalchemy import delete

    from .db import get_db
    from .models import UserSession

    db = get_db()
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    user.token_epoch = (user.token_epoch or 0) + 1
    db.commit()


def set_password(user: User, password: str) -> None:
    """Give `user` a new password and end all the user's sessions and stream tokens
    (`end_all_sessions`). Raises ValueError for a password shorter than PASSWORD_MIN."""
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"the password must be at least {PASSWORD_MIN} characters")
    user.password_hash = generate_password_hash(password)
    end_all_sessions(user)


def find_user(username: str) -> User | None:
    """The user named `username` (exactly), or None."""
    from sqlalchemy import select

    from .db import get_db
    from .models import User

    return get_db().scalar(select(User).where(User.username == username))


def set_flags(user: User, is_admin: bool | None = None, may_transcode: bool | None = None) -> bool:
    """Set `user`'s role flags and commit: `is_admin` (settings, scans, the transcode queue) and
    `may_transcode` (may queue a transcode without being an admin: `User.can_transcode`); None leaves
    a flag as it is. A role change ends all of the user's sessions and stream tokens
    (`end_all_sessions`): every session was opened under the old role. Returns True when `is_admin`
    changed (a role change), else False; raises nothing of its own (the database's errors pass through)."""
    from .db import get_db

    role_changed = is_admin is not None and bool(is_admin) != user.is_admin
    if is_admin is not None:
        user.is_admin = bool(is_admin)
    if may_transcode is not None:
        user.may_transcode = bool(may_transcode)
    if role_changed:
        end_all_sessions(user)  # commits
    else:
        get_db().commit()
    return role_changed
