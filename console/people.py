"""Creating agents and their API tokens (the CLI and admin screens share these)."""
from __future__ import annotations

from console import audit
from console.auth.models import end_all_sessions
from console.chat.socket_guard import disconnect_user
from console.extensions import db
from console.models import ROLES, ApiToken, User


def find_user(name: str) -> User | None:
    return db.session.execute(db.select(User).where(User.name == name)).scalar_one_or_none()


def user_names(limit: int = 20) -> list[str]:
    """Some existing user names, to tell someone who mistyped one what there is."""
    return list(db.session.execute(db.select(User.name).order_by(User.name).limit(limit))
                .scalars())


def save_user(name: str, role: str, password: str) -> tuple[User, bool]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    found = find_user(name)
    created = found is None
    before = None if found is None else {"role": found.role, "active": found.active}
    user = User(name=name, role=role) if found is None else found
    if created:
        db.session.add(user)
    user.role = role
    user.set_password(password)
    db.session.flush()
    if not created:  # a new password ends the sessions made with the old one
        end_all_sessions(db.session, user.id)
    audit.record("user_created" if created else "user_updated", actor_name="cli",
                 target=name, role=role, before=before,
                 after={"role": user.role, "active": user.active})
    db.session.commit()
    return user, created


def issue_token(name: str, label: str = "") -> str | None:
    user = find_user(name)
    if user is None:
        return None
    token, plain = ApiToken.issue(user, label)
    db.session.add(token)
    audit.record("token_created", actor_name="cli", target=name, hint=token.hint)
    db.session.commit()
    return plain


def tokens_of(name: str) -> list[ApiToken] | None:
    user = find_user(name)
    if user is None:
        return None
    return list(db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).scalars())


def revoke_token(token_id: int) -> bool:
    from console.models import utcnow
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at:
        return False
    token.revoked_at = utcnow()
    audit.record("token_revoked", actor_name="cli", target=token.user.name, hint=token.hint)
    db.session.commit()
    return True


def disable_user(name: str, actor_name: str = "cli") -> User | None:
    """Disable an account: it cannot sign in, and every session, remember cookie and open
    socket of it ends now (the session version moves on; sockets are disconnected in every
    process that shares the message queue)."""
    user = find_user(name)
    if user is None:
        return None
    user.active = False
    end_all_sessions(db.session, user.id)
    audit.record("user_disabled", actor_name=actor_name, target=name)
    db.session.commit()
    disconnect_user(user.id)
    return user


def enable_user(name: str, actor_name: str = "cli") -> User | None:
    user = find_user(name)
    if user is None:
        return None
    user.active = True
    audit.record("user_enabled", actor_name=actor_name, target=name)
    db.session.commit()
    return user
