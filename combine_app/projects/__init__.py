"""Projects, their human keys and their audit trail."""
