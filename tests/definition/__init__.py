"""Tests of combine_app/definition and the one rule for what a definition may hold."""
