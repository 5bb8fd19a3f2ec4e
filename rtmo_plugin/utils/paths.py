"""Where the project finds data that lives outside the repository."""
import os
from pathlib import Path

#: Environment variable that overrides the location of the shared sample data.
SHARED_DATA_ENV = "RTMO_SHARED_DATA"

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """Return the folder with the small real sample datasets.

    ``$RTMO_SHARED_DATA`` when set, else ``<repo>/../shared/data``. The folder may not exist
    (e.g. a user install); callers check ``.is_dir()`` and skip with a message.

    Returns:
        Path: absolute path of the shared data folder.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    return Path(env).expanduser().resolve() if env else (REPO_ROOT.parent / "shared" / "data").resolve()
