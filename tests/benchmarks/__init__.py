"""Tests of benchmarks/: the yardsticks answer what the API answers."""
