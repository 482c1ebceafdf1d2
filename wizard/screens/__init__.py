"""Screens of the wizard UI. Each screen (and each setup step pane) lives in its own module."""
