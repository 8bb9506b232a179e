"""Reports built from the store alone (never by training): paper-style tables and the paper's numbers."""
