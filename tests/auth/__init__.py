"""Tests of combine_app/auth."""
