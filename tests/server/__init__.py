"""Tests of the served app: settings, security headers, gunicorn and outages."""
