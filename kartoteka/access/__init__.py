"""Compartments: labels, clearances, the access policy and the audit log."""
