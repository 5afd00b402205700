"""Atomic writes: a reader (or a resumed run) sees the old file or the new one.

Each write goes to a temporary file in the destination folder, is flushed to
disk, then renamed over the destination, so a process killed at any moment
(even `kill -9`) never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import tempfile
from pathlib import Path

from kerascnn.errors import OutputExistsError, UsageError


@contextlib.contextmanager
def _temporary_beside(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from other users
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# A folder kerascnn wrote for the user (an export, an inspection page) holds
# this file; only such a folder is ever replaced.
OUTPUT_MARKER = ".kerascnn-output"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _remove_stale_siblings(path: Path) -> None:
    """Removes the temporary folders of earlier writes of `path` whose
    process died (`kill -9`, a power cut): `.NAME.PID.*.tmp` and `.old`."""
    for sibling in path.parent.glob(f".{glob.escape(path.name)}.*"):
        parts = sibling.name[len(path.name) + 2 :].split(".")
        if (
            sibling.is_dir()
            and len(parts) == 3
            and parts[0].isdigit()
            and parts[2] in ("tmp", "old")
            and not _pid_alive(int(parts[0]))
        ):
            shutil.rmtree(sibling, ignore_errors=True)


@contextlib.contextmanager
def directory(path: str | os.PathLike):
    """Yields a temporary folder that becomes `path` if the block succeeds.

    An existing `path` is replaced; on an exception the temporary folder is
    removed and `path` is left as it was. Temporary folders that an earlier,
    killed write left beside `path` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(path)
    prefix = f".{path.name}.{os.getpid()}."
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the result from other users
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_output_directory(path: str | os.PathLike, *, force: bool, flag: str = "--out") -> None:
    """Refuses an output folder whose replacement could lose the user's files.

    A new or empty folder is fine. An existing one needs `force`, and even
    then only a folder kerascnn wrote itself (it holds `OUTPUT_MARKER`) is
    replaced. The current folder and its parents never are.

    Raises:
        FileExistsError: the folder exists and `force` is False, or it holds
            files kerascnn did not write.
        ValueError: the folder is the current folder or one of its parents.
    """
    path = Path(path)
    resolved, here = path.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise UsageError(
            f"{flag} {path} is the current folder or holds it; kerascnn writes a new folder "
            f"and replaces it as a whole. Give a new folder, e.g. {flag} {path / 'out'}."
        )
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return
    if not force:
        raise OutputExistsError(
            f"{path} already exists; choose another folder, or pass --force to replace a "
            "folder kerascnn wrote before."
        )
    if not (path / OUTPUT_MARKER).is_file():
        raise OutputExistsError(
            f"{path} holds files kerascnn did not write, so --force will not replace it "
            f"(kerascnn replaces only folders with its {OUTPUT_MARKER} file). Choose another "
            "folder, or move its files away first."
        )


def mark_output(folder: Path) -> None:
    """Marks a folder as written by kerascnn (see `check_output_directory`)."""
    (folder / OUTPUT_MARKER).write_text(
        "Written by kerascnn; `--force` may replace this folder.\n", encoding="utf-8"
    )


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` to `path` atomically."""
    with _temporary_beside(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, data) -> None:
    """Writes `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def save_model(model, path: str | os.PathLike) -> None:
    """Saves a Keras model as a `.keras` file atomically."""
    path = Path(path)
    with _temporary_beside(path) as tmp:
        keras_tmp = tmp.with_suffix(".keras")  # Keras insists on the extension
        try:
            model.save(keras_tmp)
            os.replace(keras_tmp, tmp)
        finally:
            if keras_tmp.exists():
                keras_tmp.unlink()
