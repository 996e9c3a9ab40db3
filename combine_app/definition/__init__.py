"""What a workflow definition is and the rules it keeps: pure code, no Flask, no database."""
