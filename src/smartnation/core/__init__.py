"""The shared kernel: configuration, database, jobs, audit, errors, validators, web shell, i18n.

`core` imports no domain; every domain builds on it.
"""
