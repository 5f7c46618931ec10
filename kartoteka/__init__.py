"""Kartoteka: an archive for intelligence-style records."""

__version__ = "0.1.0"
