"""Where the bundled reference data (``schemas/``) lives.

The data ships in the repository's ``schemas/`` folder next to the packages; a deployment may point
``EPHYTO_SCHEMAS_DIR`` elsewhere (e.g. a refreshed code-list set) without rebuilding.
"""

import os
from pathlib import Path

_REPO_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def schemas_dir() -> Path:
    override = os.environ.get("EPHYTO_SCHEMAS_DIR")
    return Path(override) if override else _REPO_SCHEMAS


def xsd_dir() -> Path:
    return schemas_dir() / "xsd"


def codelists_dir() -> Path:
    return schemas_dir() / "codelists"
