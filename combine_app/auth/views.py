"""Sign-in pages and the Flask-Login loader.

Failed sign-ins are throttled per user name and per client address (``throttle``); each
sign-in is a session row that Sign out deletes (``sessions``), so a copied cookie dies with it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from combine_app.auth import service, sessions, throttle
from combine_app.auth.models import User
from combine_app.database import transaction
from combine_app.errors import TooManyRequests
from combine_app.extensions import login_manager

auth = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user behind a session cookie whose session has not been ended."""
    return sessions.user_of_current_session(user_id)


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site and can be sent as a header."""
    # A control character (CR/LF) in Location made the redirect itself fail with a 500.
    if target and target.startswith("/") and not target.startswith("//") and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("web.projects")


@auth.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password; 429 with Retry-After once throttled."""
    if current_user.is_authenticated:
        return redirect(url_for("web.projects"))
    error = None
    username = ""
    status, headers = 200, {}
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        keys = throttle.keys_for(username, request.remote_addr)
        try:
            throttle.refuse_if_throttled(keys)
        except TooManyRequests as refused:
            return _login_page(username, refused.detail, refused.status, refused.headers)
        user = service.authenticate(username, request.form.get("password", ""))
        with transaction():
            if user is None:
                throttle.record_failure(keys)
            else:
                throttle.forget_user(username)
                sessions.start(user)
        if user is not None:
            flash(f"Signed in as {user.username}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        error, status = "Unknown username or wrong password.", 401
    return _login_page(username, error, status, headers)


def _login_page(username: str, error: str | None, status: int, headers: dict):
    return render_template("auth/login.html", error=error, username=username), status, headers


@auth.post("/logout")
@login_required
def logout():
    """Sign out: this session ends here and on every worker; its cookie is worthless."""
    with transaction():
        sessions.end()
    flash("Signed out.", "success")
    return redirect(url_for("auth.login"))


@auth.post("/logout/everywhere")
@login_required
def logout_everywhere():
    """Sign out of every browser this user is signed in with (API tokens stay valid)."""
    with transaction():
        count = sessions.end_all(current_user._get_current_object())
    flash(f"Signed out of {count} {'session' if count == 1 else 'sessions'}.", "success")
    return redirect(url_for("auth.login"))
