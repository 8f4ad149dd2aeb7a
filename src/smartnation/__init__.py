"""smartnation: an open-source platform that runs a nation's digital government services.

One Python application holding the systems of a Smart Nation programme: the national registry,
digital identity, health certificates, vaccination appointments, contact tracing, messaging and
more. It runs on a laptop with SQLite and in production on PostgreSQL.
"""

__version__ = "0.1.0"
