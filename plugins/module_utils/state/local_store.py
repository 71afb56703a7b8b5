"""Credentials state in a local 0600 file: compare-and-swap under an exclusive lock, atomic rename."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import tempfile

from ansible_collections.octo.platform.plugins.module_utils.common.errors import OctoError, ValidationError
from ansible_collections.octo.platform.plugins.module_utils.state.store import ABSENT, StateConflict

FILE_MODE = 0o600
DIR_MODE = 0o700


class LocalStore:
    def __init__(self, path: str):
        if not path:
            raise ValidationError("platform credentials", "path", "required with backend=local")
        self.path = os.path.abspath(path)
        self.what = f"state file {self.path}"
        if os.path.isdir(self.path):
            raise ValidationError("platform credentials", "path", f"{self.path} is a directory")
        parent = os.path.dirname(self.path)
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise ValidationError("platform credentials", "path", f"{parent} is not a directory")

    def read(self) -> tuple[bytes | None, str | int]:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None, ABSENT
        except OSError as err:
            raise OctoError("read", self.what, err.strerror or str(err)) from None
        return data, _generation(data)

    def loose_mode(self) -> bool:
        """True when the file exists and group or others may access it."""
        try:
            return bool(stat.S_IMODE(os.stat(self.path).st_mode) & 0o077)
        except FileNotFoundError:
            return False

    def tighten(self) -> None:
        os.chmod(self.path, FILE_MODE)

    def write(self, data: bytes, generation: str | int) -> str:
        parent = os.path.dirname(self.path)
        try:
            os.makedirs(parent, mode=DIR_MODE, exist_ok=True)
            with self._locked():
                current = self.read()[1]
                if current != generation:
                    raise StateConflict(f"{self.path} changed since it was read")
                self._replace(parent, data)
        except OSError as err:
            raise OctoError("write", self.what, err.strerror or str(err)) from None
        return _generation(data)

    @contextlib.contextmanager
    def _locked(self):
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _replace(self, parent: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".octo-state-", dir=parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _generation(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
