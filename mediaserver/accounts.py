"""Accounts: creating users and checking passwords (werkzeug's `generate_password_hash`, scrypt by
default), for the sign-in routes (`web/auth.py`) and `flask users` (`cli.py`). The database is imported
when an account is looked at, so that the command line reads the rules below without it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

if TYPE_CHECKING:
    from .models import User

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


def find_user(username: str) -> User | None:
    """The user named `username` (exactly), or None."""
    from sqlalchemy import select

    from .db import get_db
    from .models import User

    return get_db().scalar(select(User).where(User.username == username))


def set_flags(user: User, is_admin: bool | None = None, may_transcode: bool | None = None) -> bool:
    """Set `user`'s role flags and commit: `is_admin` (settings, scans, the transcode queue) and
    `may_transcode` (may queue a transcode without being an admin: `User.can_transcode`); None leaves
    a flag as it is. Returns True when `is_admin` changed (a role change), else False; raises nothing
    of its own (the database's errors pass through)."""
    from .db import get_db

    role_changed = is_admin is not None and bool(is_admin) != user.is_admin
    if is_admin is not None:
        user.is_admin = bool(is_admin)
    if may_transcode is not None:
        user.may_transcode = bool(may_transcode)
    get_db().commit()
    return role_changed
