"""People who sign in: tenant members and platform admins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models.base import Timestamps, UTCDateTime, utcnow


def password_hash_method() -> str:
    """The werkzeug hash method for new passwords (tests may choose a faster one)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


class User(UserMixin, Timestamps, db.Model):
    """A person with a login; email is unique whatever its case."""

    __tablename__ = "users"
    __table_args__ = (
        sa.Index("uq_users_email_lower", sa.func.lower(sa.column("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="UTC")
    is_platform_admin: Mapped[bool] = mapped_column(nullable=False, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships = relationship(
        "Membership", back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @classmethod
    def by_email(cls, email: str) -> User | None:
        return db.session.scalar(sa.select(cls).where(sa.func.lower(cls.email) == email.lower()))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """One sign-in on one device: the browser holds its key, Pier only the key's hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    remember: Mapped[bool] = mapped_column(nullable=False, default=False)
    device: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"
