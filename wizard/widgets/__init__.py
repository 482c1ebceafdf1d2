"""Reusable widgets of the wizard UI, grouped by feature (one module each)."""
