"""Storage adapters: an in-memory store and a SQLite store, behind the ports."""
