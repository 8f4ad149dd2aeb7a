"""The web shell every domain's pages and APIs stand in: templates, errors, security, sessions."""
