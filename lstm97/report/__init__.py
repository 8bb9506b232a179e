"""Reports built from the store and the paper's data (lstm97.paper) alone, never by training or by resolving a
configuration: paper-style tables, figures and the accounts of the gaps."""
