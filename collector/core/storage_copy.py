"""Moving a folder store into another store (an S3 bucket): every document copied once,
checked against its key, so a run can stop anywhere and be started again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from collector.core.storage import DocumentStore, FolderStore


@dataclass
class Copied:
    copied: int = 0
    present: int = 0  # already in the target: a run before this one, or the app itself
    damaged: list[str] = field(default_factory=list)  # content no longer matches its key

    @property
    def seen(self) -> int:
        return self.copied + self.present + len(self.damaged)


def copy_documents(
    source: FolderStore, target: DocumentStore, progress: Callable[[Copied], None] | None = None
) -> Copied:
    """Copy every document of ``source`` that ``target`` lacks. Idempotent and resumable:
    what the target holds is skipped with one existence check each, and nothing is ever
    deleted from ``source``. A file whose content does not hash to its name is reported,
    not copied under that name (the target then holds it only under its true key)."""
    done = Copied()
    for key in source.stored_keys():
        if target.exists(key):
            done.present += 1
        else:
            with source.open(key) as file:
                stored, _size = target.put_stream(file)
            if stored == key:
                done.copied += 1
            else:
                done.damaged.append(key)
        if progress is not None:
            progress(done)
    return done
