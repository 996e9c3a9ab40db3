"""User accounts, their API tokens and sessions, and failed sign-ins (only hashes are stored)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from combine_app.database import Timestamp, utcnow
from combine_app.extensions import db

TOKEN_PREFIX = "cmb_"  # noqa: S105  (a public marker on every token, not a secret)


class User(UserMixin, db.Model):
    """A person who signs in; owns projects."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)


def hash_token(token: str) -> str:
    """The SHA-256 of a token: tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_value() -> str:
    """A fresh random API token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(db.Model):
    """A bearer token for JSON clients; the token itself is shown once and never stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)

    user: Mapped[User] = relationship(back_populates="tokens")


class SignInFailure(db.Model):
    """One failed sign-in (password form or API token), counted per user name and per address.

    Only a hash of the user name or address is kept: a failed user name is often a password
    typed into the wrong field.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("idx_sign_in_failures_scope_key_failed_at", "scope", "key_hash", "failed_at"),
        Index("idx_sign_in_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(10))
    key_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )


class UserSession(db.Model):
    """A signed-in browser session; the cookie holds a secret whose hash is ``id``.

    Sign-out deletes the row, so the old cookie is refused by every worker from then on.
    """

    __tablename__ = "user_sessions"
    __table_args__ = (Index("idx_user_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
