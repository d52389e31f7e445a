"""Creating and dropping whole databases (`make run` with a new DATABASE_URL, the benchmarks' scratch
databases): statements that cannot run inside the database they name, so they go through the server's
maintenance database `postgres`, with the name quoted as an identifier."""

from typing import Any

import psycopg2
from psycopg2 import sql


def create_database(database: dict[str, Any], name: str) -> None:
    """`database`: Django's settings of a database on the same server (NAME, USER, PASSWORD, HOST, PORT)."""
    _run_on_server(database, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database_if_exists(database: dict[str, Any], name: str) -> None:
    _run_on_server(database, sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def _run_on_server(database: dict[str, Any], statement: sql.Composable) -> None:
    options = {
        "dbname": "postgres",
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
    }
    admin = psycopg2.connect(**{name: value for name, value in options.items() if value})
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()
