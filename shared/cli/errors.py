"""Errors a person can fix from the command line; printed without a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments or inputs a person can fix; printed without a traceback."""
