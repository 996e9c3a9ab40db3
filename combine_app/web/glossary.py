"""The help page: what Combine's words mean, for anyone (it shows no data)."""

from __future__ import annotations

from flask import render_template

from combine_app.web import web


@web.get("/help")
def help_page():
    """What do these words mean? One short paragraph per word the pages use."""
    return render_template("help.html")
