"""Secure channels: a drop for sources, and enciphered cables between stations (issue 16).

- codename.py: the word list, codenames and their Argon2id hash
- sealing.py: padding to size buckets, atomic writes, dates by the day
- drop_store.py, drop_app.py: the drop's files and its web service (nothing of the archive)
- collect.py: the handler's side (collect, reply, the desk), through the `Archive` facade
- station.py, cable.py: station keys and peers; cables sent and received

This package imports nothing itself, so the drop's process loads only what
drop_app.py needs.
"""
