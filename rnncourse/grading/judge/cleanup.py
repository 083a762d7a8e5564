"""Removing what a sandbox may have left, whatever it looks like: iterative, never follows links.

A submission can leave thousands of nested folders, read-only folders, symbolic links that point
outside, FIFOs and sockets. :func:`remove_tree` walks with an explicit stack (no recursion, so no
``RecursionError``), opens every folder relative to its parent with ``O_NOFOLLOW`` (a link swapped
in meanwhile is removed, never entered), makes folders writable before emptying them, and never
raises: it returns what it could not remove.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["remove_tree", "sweep_owned"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _empty(fd: int) -> list:
    """Unlink every non-folder entry of the open folder ``fd``; return the names of sub-folders."""
    subdirs = []
    try:
        names = os.listdir(fd)
    except OSError:
        return subdirs
    for name in names:
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            subdirs.append(name)
            continue
        try:
            os.unlink(name, dir_fd=fd)
        except OSError:
            pass
    return subdirs


def remove_tree(path) -> int:
    """Delete ``path`` and everything below it; return how many entries are left (0: all gone)."""
    path = Path(path)
    try:
        info = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return 0
    except OSError:
        return 1
    if not stat.S_ISDIR(info.st_mode):
        try:
            os.unlink(path)
            return 0
        except OSError:
            return 1
    try:
        os.chmod(path, 0o700, follow_symlinks=False)
        top = os.open(path, _DIR_FLAGS)
    except OSError:
        return 1
    # each frame: [fd of a folder, its name in the parent, names of sub-folders still to visit]
    stack = [[top, "", _empty(top)]]
    while stack:
        fd, name, subdirs = stack[-1]
        if subdirs:
            sub = subdirs.pop()
            try:
                os.chmod(sub, 0o700, dir_fd=fd, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
            try:
                child = os.open(sub, _DIR_FLAGS, dir_fd=fd)
            except OSError:  # replaced by a link or a file meanwhile: unlink whatever it is now
                try:
                    os.unlink(sub, dir_fd=fd)
                except OSError:
                    pass
                continue
            stack.append([child, sub, _empty(child)])
            continue
        stack.pop()
        os.close(fd)
        if stack:
            try:
                os.rmdir(name, dir_fd=stack[-1][0])
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        return _count(path)
    return 0


def _count(path: Path) -> int:
    left, todo = 0, [str(path)]
    while todo and left < 10_000:
        try:
            with os.scandir(todo.pop()) as it:
                for entry in it:
                    left += 1
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
        except OSError:
            left += 1
    return max(left, 1)


def sweep_owned(folders, uid: int) -> int:
    """Remove the top-level entries of ``folders`` (``/tmp``, ``/dev/shm``...) owned by ``uid``."""
    left = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    left += remove_tree(entry.path)
            except OSError:
                pass
    return left
