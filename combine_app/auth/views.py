"""Sign-in pages and the Flask-Login loader."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from combine_app.auth import service
from combine_app.auth.models import User
from combine_app.extensions import db, login_manager

auth = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user behind a session cookie."""
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


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
    """Sign in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("web.projects"))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = service.authenticate(username, request.form.get("password", ""))
        if user is None:
            error = "Unknown username or wrong password."
        else:
            login_user(user)
            flash(f"Signed in as {user.username}.", "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, username=username), status


@auth.post("/logout")
@login_required
def logout():
    """Sign out and forget the session."""
    logout_user()
    flash("Signed out.", "success")
    return redirect(url_for("auth.login"))
