"""Tests of combine_app/api."""
