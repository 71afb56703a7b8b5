"""PostgreSQL client tools (psql, pg_dump, pg_restore) run as subprocesses; the password goes by environment."""

from __future__ import annotations

import os
import shutil
import subprocess

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError

# Exact row counts of every user table, in one statement (no function to install).
ROW_COUNTS = """
SELECT format('%I.%I', table_schema, table_name),
       (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
                                             false, true, '')))[1]::text
FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1
"""
USER_TABLES = (
    "SELECT count(*) FROM information_schema.tables "
    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
)
TIMEOUT = 3600


class Postgres:
    def __init__(self, params: dict):
        self.host = params.get("login_host") or "127.0.0.1"
        self.port = params.get("login_port") or 5432
        self.user = params.get("login_user") or "postgres"
        self.password = params.get("login_password")
        self.bin_dir = params.get("pg_bin_dir")
        self.server = f"postgres://{self.user}@{self.host}:{self.port}"

    def tool(self, name: str) -> str:
        path = os.path.join(self.bin_dir, name) if self.bin_dir else shutil.which(name)
        if not path or not os.access(path, os.X_OK):
            where = self.bin_dir or "PATH"
            raise OctoError(
                "find", name, f"not in {where}; install the PostgreSQL client (postgresql-client)"
            )
        return path

    def env(self) -> dict:
        env = {**os.environ, "PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        env["PGCONNECT_TIMEOUT"] = "10"
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def query(self, database: str, sql: str, verb: str = "query") -> list[list[str]]:
        command = [self.tool("psql"), "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        out = self._run([*command, "-d", database, "-c", sql], verb, f"database {database} on {self.server}")
        return [line.split("\t") for line in out.splitlines() if line]

    def exists(self, database: str) -> bool:
        rows = self.query("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{_literal(database)}'")
        return bool(rows)

    def create(self, database: str) -> None:
        self.query("postgres", f'CREATE DATABASE "{database}"', verb="create")

    def user_tables(self, database: str) -> int:
        return int(self.query(database, USER_TABLES)[0][0])

    def row_counts(self, database: str) -> dict:
        return {table: int(count) for table, count in self.query(database, ROW_COUNTS, verb="count rows of")}

    def dump(self, database: str):
        """pg_dump -Fc of database, its stdout a pipe to stream from; finish with wait()."""
        command = [self.tool("pg_dump"), "-Fc", "--no-password", "-d", database]
        # A pipe to stream from, which run_command (it buffers all output) cannot give.
        return subprocess.Popen(  # pylint: disable=ansible-bad-function
            command, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )

    def wait(self, process, database: str) -> None:
        process.stdout.close()
        stderr = process.stderr.read().decode(errors="replace")
        if process.wait(timeout=TIMEOUT) != 0:
            raise OctoError("dump", f"database {database} on {self.server}", _last_line(stderr))

    def restore(self, database: str, feed, clean: bool) -> None:
        """pg_restore into database from what feed(stdin) writes (a custom-format dump)."""
        command = [self.tool("pg_restore"), "--no-password", "--no-owner", "--exit-on-error", "-d", database]
        if clean:
            command += ["--clean", "--if-exists"]
        what = f"database {database} on {self.server}"
        # A pipe to stream into (run_command takes its input as one string).
        process = subprocess.Popen(  # pylint: disable=ansible-bad-function
            command, env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            feed(process.stdin)
            process.stdin.close()
        except BrokenPipeError:
            pass  # pg_restore stopped early: its exit status and message say why
        stderr = process.stderr.read().decode(errors="replace")
        if process.wait(timeout=TIMEOUT) != 0:
            raise OctoError("restore", what, _last_line(stderr))

    def _run(self, command: list[str], verb: str, what: str) -> str:
        try:
            # Bounded: AnsibleModule.run_command has no timeout.
            done = subprocess.run(  # pylint: disable=ansible-bad-function
                command, env=self.env(), capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise OctoError(verb, what, str(err)) from None
        if done.returncode != 0:
            raise OctoError(verb, what, _last_line(done.stderr))
        return done.stdout


def _literal(value: str) -> str:
    return value.replace("'", "''")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "exited with an error"
