"""A throwaway PostgreSQL 15 server for tests: initdb + pg_ctl in a temporary directory on a free port.

Password authentication (scram-sha-256) over TCP on 127.0.0.1 only. As root the server runs as the
``postgres`` system user (initdb refuses root). Installs the Debian package first when missing.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile

from cluster.local_ports import free_port

BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
INSTALLER = pathlib.Path(__file__).with_name("install_postgres.sh")
PASSWORD = "test-only-pg-password-4d1c"
TIMEOUT = 60


class PostgresServer:
    def __init__(self):
        self.port = free_port()
        self.password = PASSWORD
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="octo-pg-"))
        self.data = self.dir / "data"
        self.bin_dir = str(BIN)

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, command: list[str]) -> None:
        subprocess.run(self._as_owner(command), check=True, capture_output=True, timeout=TIMEOUT)

    def start(self) -> PostgresServer:
        subprocess.run([str(INSTALLER)], check=True, timeout=900)
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._run([str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "scram-sha-256",
                   f"--pwfile={pwfile}", "--no-sync"])  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"),
                   "-w", "-t", str(TIMEOUT), "start"])  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def params(self) -> dict:
        """Connection options of platform_backup/platform_restore."""
        return {
            "login_host": "127.0.0.1",
            "login_port": self.port,
            "login_user": "postgres",
            "login_password": self.password,
            "pg_bin_dir": self.bin_dir,
        }

    def sql(self, database: str, statement: str) -> list[list[str]]:
        env = {**os.environ, "PGPASSWORD": self.password}
        done = subprocess.run(
            [str(BIN / "psql"), "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement],
            env=env, capture_output=True, text=True, timeout=TIMEOUT, check=True,
        )  # fmt: skip
        return [line.split("\t") for line in done.stdout.splitlines() if line]
