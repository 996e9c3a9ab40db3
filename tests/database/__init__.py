"""Tests of the database: the migration chain and its agreement with the models."""
