"""Reporters: plain text (flutter doctor style) and JSON (the DESIGN.md document)."""
