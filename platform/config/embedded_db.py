"""The zero-setup PostgreSQL for development and tests: `pgserver` with its data in `.pgdata/`.

Used only when `DATABASE_URL` is not set and we are not in production. The server listens on a Unix
socket only; several processes (make run's steps, runserver's reloader, pytest) share one server.
"""

from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / ".pgdata"
DATABASE_NAME = "clinic_platform"


def embedded_database_url() -> str:
    """Start (or join) the embedded server and return a URL to the project's database in it."""
    import warnings

    # pgserver's lock lives in the user's runtime dir; without XDG_RUNTIME_DIR it warns and uses /tmp.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # a development dependency; production always sets DATABASE_URL

    DATA_DIR.mkdir(exist_ok=True)
    # cleanup_mode=None keeps the server running for the next command, so a second `make run` or
    # `make test` starts in seconds; `make stop-db` stops it.
    server = pgserver.get_server(DATA_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgresql://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"
