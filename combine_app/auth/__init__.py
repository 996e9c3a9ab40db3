"""Users, API tokens, sign-in and the ``users``/``tokens`` commands."""
