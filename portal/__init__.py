"""Shared core of the portal: settings, errors, the portal database and formatting."""
