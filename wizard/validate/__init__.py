"""Offline validation of appspec files, bundles, .travis.yml and GitHub workflows.

Kept light on purpose: importing `wizard.validate.appspec` (the sandbox's simulated agent does)
pulls in only PyYAML and the standard library. `validate_paths` imports the rest lazily.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.validate.model import FileReport


def validate_paths(paths: list[str | os.PathLike[str]]) -> list[FileReport]:
    """Validate each path (file, bundle folder or archive) by its kind; one report per path."""
    from wizard.validate.dispatch import validate_path

    return [validate_path(p) for p in paths]
