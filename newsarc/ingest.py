"""``newsarc import``: walk folders, read and parse posts (in worker processes), store them.

Incremental: a file whose size and mtime are unchanged since the last import, and that was read
with the same parse options (``--tz``), is not read again; a changed mtime with the same content
hash is only recorded. Each file's warnings and skip reason are stored, so every import reports
them, read again or not. Recorded files that are no longer there are reported (and forgotten
with ``prune``). One post per article id: another file with the same ``external_id`` is a
duplicate copy, and the most recently modified copy's content wins, except that a saved
version (``name@commit.md``) never replaces the current one (see ``copy_rank``). Writes are
committed in batches, so an interrupted import leaves every post either fully written or not at
all; running it again finishes the job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .dates import DEFAULT_TZ
from .errors import NotAPost, PostError, StoreError, UsageError
from .parse import parse_post
from .queries import FileState, file_state, find_post_by_external_id, recorded_paths
from .read import one_line, read_file
from .store import Store, db_text, post_row
from .stories import KeyFilter, Signature, fold_paragraphs, folded_signatures, signature

if TYPE_CHECKING:
    from .packing import Packer

#: files looked up and handed to the worker processes at a time, then written in one
#: transaction; also the unit between progress reports
CHUNK = 2048
#: ... and at most this many bytes of files to read in a chunk
CHUNK_BYTES = 16 << 20
#: an import keeps the band keys in memory when the archive has at most this many signed
#: posts, and at most ``KNOWN_KEYS_RATIO`` times as many as its first chunk brings (loading
#: 20,000 posts' keys takes about 0.2 s; each lookup it saves, about 20 µs)
KNOWN_KEYS_MAX = 20_000
KNOWN_KEYS_RATIO = 4
#: messages kept per kind (skipped, failed, warnings); beyond this they are only counted
MAX_LISTED = 10_000


@dataclass
class Prepared:
    """A file read, decoded and parsed by a worker, ready to be written."""

    path: str
    size: int
    mtime_ns: int
    hash: str
    external_id: str = ""
    row: dict[str, Any] | None = None
    fts: tuple[str, ...] = ()
    #: the story signature of the text (``stories.folded_signature``), made by the worker
    story_sig: Signature | None = None
    #: the text's folded paragraphs, until the signature is made from them
    folded: list[str] | None = None
    #: the post's plain text (``row`` may hold it packed)
    text: str = ""
    warnings: list[str] = field(default_factory=list)
    #: set when the file is not a post (skipped) or could not be imported (failed)
    status: str = "post"
    reason: str | None = None
    message: str | None = None


@dataclass
class ImportResult:
    """What an import did. ``failed``/``skipped``/``warnings`` hold (path, message) pairs."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    #: duplicates whose content replaced the stored copy because the file is newer
    newer_copies: int = 0
    #: duplicates that replaced the stored copy by name (see ``copy_rank``), not by being newer
    canonical_copies: int = 0
    #: recorded files under the imported folders that are no longer there
    gone: int = 0
    #: with ``prune``: files forgotten and posts deleted because no file of theirs is left
    pruned_files: int = 0
    pruned_posts: int = 0
    #: Jekyll site folders found, of which only ``_posts/`` (and ``_drafts/``) were read
    sites: list[str] = field(default_factory=list)
    #: files read again because they were imported before with other parse options (``--tz``)
    reparsed: int = 0
    #: whether ``_drafts/`` of those sites were read too
    drafts: bool = False
    #: the first ``MAX_LISTED`` of each kind of message; the counts below are complete
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    failed_reasons: Counter[str] = field(default_factory=Counter)
    n_warnings: int = 0
    files: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    #: whether the archive was compacted after the import (see ``Importer._compact``), and
    #: how long that took (part of ``seconds``)
    compacted: bool = False
    compact_seconds: float = 0.0

    @property
    def n_skipped(self) -> int:
        return self.skipped_reasons.total()

    @property
    def n_failed(self) -> int:
        return self.failed_reasons.total()

    @property
    def posts_written(self) -> int:
        return self.imported + self.updated

    def note(self, kind: str, path: str, message: str, reason: str = "") -> None:
        """Count a skipped file, failure or warning, keeping its message (made one line, even
        when a file name or an error holds line breaks) while there is room (a million
        messages would not fit the importer's flat memory)."""
        listed = {"skipped": self.skipped, "failed": self.failed, "warning": self.warnings}[kind]
        if kind == "skipped":
            self.skipped_reasons[reason] += 1
        elif kind == "failed":
            self.failed_reasons[reason] += 1
        else:
            self.n_warnings += 1
        if len(listed) < MAX_LISTED:
            listed.append((path, one_line(message)))


#: files that make a folder a Jekyll site root
_SITE_CONFIGS = frozenset({"_config.yml", "_config.yaml", "_config.toml"})


def iter_files(
    paths: Iterable[Path], *, drafts: bool = False, sites: list[str] | None = None
) -> Iterator[Path]:
    """Files under ``paths``, in a stable order.

    Folders are walked recursively; names starting with '.' (``.git``, ``.DS_Store``) are left
    out. Links to files are read; links to folders are not followed, so a link loop cannot hang
    an import (name the target folder itself to import it).

    A folder with a ``_posts/`` folder or a ``_config.yml`` is a Jekyll site: its posts are in
    ``_posts/`` (and its unpublished ones in ``_drafts/``, read only with ``drafts``); its pages,
    layouts, includes, ``_site``, ``_sass`` and assets are not posts and are not read. Such
    folders are appended to ``sites``.
    """
    for root in paths:
        if not root.is_dir():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            if "_posts" in dirnames or not _SITE_CONFIGS.isdisjoint(filenames):
                if sites is not None:
                    sites.append(dirpath)
                dirnames[:] = [d for d in dirnames if d == "_posts" or (drafts and d == "_drafts")]
                continue
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield Path(dirpath) / name


#: a copy's name ending in ``@`` and a commit hash: a saved older version of a post
_VERSION_SUFFIX = re.compile(r"@[0-9a-fA-F]{7,40}$")


def copy_rank(path: str, mtime_ns: int) -> tuple[bool, int, int, str]:
    """Which copy of a post keeps the content: the one of lowest rank. A name ending in
    ``@commit`` is a saved version, so any copy without that suffix wins over it (a git
    checkout gives files arbitrary mtimes, which say nothing about which version is current);
    then the most recently modified copy; between copies modified at the same time, the
    shorter path, then the first in code point order. The same copy wins whatever order the
    files are walked in."""
    is_version = _VERSION_SUFFIX.search(PurePath(path).stem) is not None
    return (is_version, -mtime_ns, len(path), path)


def parse_options(tz: dt.tzinfo) -> str:
    """The parse options a file is read with, as recorded with it: a file read with other
    options is parsed again (a naive date means another instant in another time zone)."""
    return f"tz={tz}"


#: the options of a file read with the defaults; recorded as NULL (``m009_lean_rows``), as
#: archives from before options were recorded have them
DEFAULT_OPTIONS = parse_options(DEFAULT_TZ)


_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def _exists(recorded: str) -> bool:
    """Whether a recorded path is still there. A name's bytes that are not UTF-8 were recorded
    as ``\\xNN`` (``store.db_text``): try the name they stand for too."""
    if os.path.lexists(recorded):
        return True
    if "\\x" not in recorded:
        return False
    name = _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), recorded)
    return os.path.lexists(name)


def check_paths(paths: Iterable[Path]) -> list[Path]:
    """Absolute paths, or ``UsageError`` for the first one that does not exist."""
    out = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        out.append(Path(os.path.abspath(path)))
    return out


#: where a worker finds the dictionary to pack posts with: (archive path, dictionary id)
DictRef = tuple[str, int]

#: this process's packer, made from the dictionary it was last asked for
_packers: dict[DictRef, Packer] = {}


def _packer(ref: DictRef | None) -> Packer | None:
    """The packer for a dictionary of the archive, read from it once per process: workers get
    the dictionary's id with each file, not its 100 KB."""
    if ref is None:
        return None
    found = _packers.get(ref)
    if found is None:
        from .packing import Packer
        from .queries import dictionary

        with Store.open(Path(ref[0]), create=False, readonly=True) as store:
            data = dictionary(store, ref[1])
        if data is None:
            raise StoreError(f"{ref[0]}: dictionary {ref[1]} vanished during the import")
        _packers.clear()
        found = _packers[ref] = Packer(ref[1], data)
    return found


def prepare(
    path: str, size: int, mtime_ns: int, known_hash: str | None, tz: dt.tzinfo,
    dict_ref: DictRef | None = None, sign: bool = True,
) -> Prepared:  # fmt: skip
    """Read, hash, decode and parse one file, and pack its post with the archive's dictionary
    ``dict_ref`` if it has one (runs in a worker process). ``sign``: make its story signature
    now; else ``_sign`` makes it later, with the rest of a batch."""
    try:
        data, decoded = read_file(Path(path))
    except PostError as exc:
        return _not_imported(path, size, mtime_ns, "", exc)
    digest = hashlib.sha256(data).hexdigest()
    prepared = Prepared(path=path, size=size, mtime_ns=mtime_ns, hash=digest)
    if digest == known_hash:
        prepared.status = "same"
        return prepared
    try:
        # a link to a post is that post: its id and date come from the target's name
        named = os.path.realpath(path) if os.path.islink(path) else path
        post = parse_post(decoded.text, PurePath(named), tz)
    except PostError as exc:
        return _not_imported(path, size, mtime_ns, digest, exc)
    except Exception as exc:  # a parser bug must not stop the import; report it as a failure
        return _not_imported(
            path, size, mtime_ns, digest,
            PostError(
                f"unexpected {type(exc).__name__}: {exc} (please report this)", "internal error"
            ),
        )  # fmt: skip
    prepared.external_id = post.external_id
    prepared.warnings = post.warnings
    prepared.row = post_row(
        post, raw=decoded.text, encoding=decoded.encoding, now=int(time.time()),
        packer=_packer(dict_ref),
    )  # fmt: skip
    # fold the text once, for both the search index and the story signature
    folded = fold_paragraphs(post.text)
    prepared.fts = Store.fts_values(
        post.title, post.text, post.categories, post.tags, post.source,
        folded_text=" ".join(p for p in folded if p),
    )  # fmt: skip
    prepared.text = post.text
    prepared.folded = folded
    if sign:
        _sign([prepared])
    return prepared


def _sign(prepared: list[Prepared]) -> None:
    """Give parsed posts their story signatures, from their folded paragraphs, with band keys
    and storage bytes made here, in parallel, rather than by the one process that writes
    (both are cached on the signature)."""
    posts = [(p, p.folded) for p in prepared if p.folded is not None]
    for (p, _), sig in zip(posts, folded_signatures([f for _, f in posts]), strict=True):
        sig.band_keys()
        sig.to_bytes()
        p.story_sig, p.folded = sig, None


def _not_imported(path: str, size: int, mtime_ns: int, digest: str, exc: PostError) -> Prepared:
    status = "skipped" if isinstance(exc, NotAPost) else "failed"
    return Prepared(
        path=path, size=size, mtime_ns=mtime_ns, hash=digest,
        status=status, reason=exc.reason, message=str(exc),
    )  # fmt: skip


Task = tuple[str, int, int, str | None, dt.tzinfo, DictRef | None]


def _prepare_task(task: Task, sign: bool = True) -> Prepared:
    path, size, mtime_ns, known_hash, tz, dict_ref = task
    return prepare(path, size, mtime_ns, known_hash, tz, dict_ref, sign=sign)


def _init_worker(parent: int) -> None:
    # Ctrl-C is handled once, by the parent, which stops the pool and rolls back cleanly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker when the importer is gone: killed (SIGKILL, the OOM killer), it cannot
    stop its workers, which would otherwise wait for work forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


#: seconds a worker may spend on one batch of files before it is taken as hung
BATCH_TIMEOUT = 120.0
#: seconds the workers get to finish the batch they are on when the pool stops
STOP_GRACE = 2.0
#: files sent to a worker at a time, and at most this many bytes of them (a bigger file goes
#: alone): a worker holds a whole batch's results in memory, several times the files' size
BATCH = 64
BATCH_BYTES = 1 << 20


class _Workers:
    """Parser processes that survive bad files.

    A file that crashes its worker (a C-level fault in a parser library) or keeps it busy past
    ``BATCH_TIMEOUT`` must not stop the import: the pool is replaced, the files of the batch that
    broke it are retried one at a time, and the one at fault is reported as failed.
    """

    def __init__(self, count: int):
        self.count = count
        self.executor = self._start()

    def _start(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        return ProcessPoolExecutor(
            self.count,
            mp_context=multiprocessing.get_context(method),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )

    def _restart(self) -> None:
        self.close()
        self.executor = self._start()

    def close(self) -> None:
        """Stop the workers: each finishes the batch it is on (the rest is cancelled), and one
        still busy after ``STOP_GRACE`` seconds (hung on a file) is killed. Killing them all at
        once is not safe: a worker killed while it sends a result leaves half a message in the
        result pipe, and the pool's manager thread waits for the rest forever (Ctrl-C hung an
        import that way about one time in five)."""
        executor = self.executor
        processes = list((getattr(executor, "_processes", None) or {}).values())
        manager = getattr(executor, "_executor_manager_thread", None)
        executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + STOP_GRACE
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.kill()
        if manager is not None:
            manager.join(STOP_GRACE)

    def map(self, tasks: list[tuple[Any, ...]]) -> Iterator[Prepared]:
        """Prepared files in the order of ``tasks``. They are submitted now, so they are parsed
        while the caller does something else (writes the previous chunk)."""
        batches = list(_batches(tasks))
        futures = [self.executor.submit(_prepare_batch, batch) for batch in batches]
        return self._results(batches, futures, self.executor)

    def _results(
        self, batches: list[list[tuple[Any, ...]]], futures: list[Any], executor: Any
    ) -> Iterator[Prepared]:
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        for n, future in enumerate(futures):
            if self.executor is not executor:
                # the pool was replaced since these were submitted (a bad file in an earlier
                # chunk broke it), and they were cancelled with it: submit them again
                yield from self.map([t for batch in batches[n:] for t in batch])
                return
            try:
                yield from future.result(timeout=BATCH_TIMEOUT)
            except (BrokenProcessPool, FutureTimeout):
                self._restart()
                for task in (t for batch in batches[n:] for t in batch):
                    yield self._one(task)
                return

    def _one(self, task: tuple[Any, ...]) -> Prepared:
        """One file in a fresh pool, for the files of a batch that broke a worker."""
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        path, size, mtime_ns = task[0], task[1], task[2]
        try:
            return self.executor.submit(_prepare_task, task).result(timeout=BATCH_TIMEOUT)
        except BrokenProcessPool:
            reason, message = "parser crashed", "the parser crashed on this file"
        except FutureTimeout:
            reason, message = "timed out", f"parsing took longer than {BATCH_TIMEOUT:.0f} s"
        self._restart()
        return _not_imported(path, size, mtime_ns, "", PostError(message, reason))


def _prepare_batch(tasks: list[Task]) -> list[Prepared]:
    """Prepare a worker's batch of files; their posts are signed together
    (``stories.folded_signatures``: numpy over the whole batch)."""
    done = [_prepare_task(task, sign=False) for task in tasks]
    _sign(done)
    return done


def _batches(tasks: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    """``tasks`` in batches of at most ``BATCH`` files and ``BATCH_BYTES`` bytes."""
    batch: list[tuple[Any, ...]] = []
    size = 0
    for task in tasks:
        if batch and (len(batch) == BATCH or size + task[1] > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(task)
        size += task[1]
    if batch:
        yield batch


#: SQLite's page cache while importing (its default is 2 MB): the index B-trees (files, catalog,
#: stories) take random inserts, and at 100,000 posts this makes the import about 10 % faster
IMPORT_CACHE_MB = 64
#: an import that wrote at least this share of the archive's posts compacts it when done
#: (``Store.compact``): bulk writes leave the full-text index in many segments and pages part
#: empty; compacting a new 100,000-post archive made it 8 % smaller for 7 % more import time
COMPACT_SHARE = 0.25
#: ``progress(COMPACTING, COMPACTING)`` says that the import has gone on to compact the archive
COMPACTING = -1


class Importer:
    """Imports files into a store, parsing in ``workers`` processes (0: in this process)."""

    def __init__(
        self,
        store: Store,
        *,
        tz: dt.tzinfo = DEFAULT_TZ,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        prune: bool = False,
        drafts: bool = False,
        compact: bool = True,
    ):
        self.store = store
        self.compact = compact
        self.tz = tz
        self.options = parse_options(tz)
        #: as recorded with each file: NULL for the defaults, 12 bytes a file less
        self._recorded_options = None if self.options == DEFAULT_OPTIONS else self.options
        self.prune = prune
        self.drafts = drafts
        #: files read again because their parse options changed: their post is rewritten
        self._reparse: set[str] = set()
        self.workers = workers if workers is not None else max(1, min(os.cpu_count() or 1, 4))
        self.progress = progress
        self.result = ImportResult(drafts=drafts)
        #: the dictionary new posts are packed with (None until the archive has one)
        self.dict_ref: DictRef | None = None
        #: the archive's story threshold, read once
        self._threshold: float | None = None
        #: the band keys stored, kept in memory by an import into a new or small archive, and
        #: the highest signed post it has seen (see ``_check_known``)
        self._known: KeyFilter | None = None
        self._known_last = 0
        self._known_tried = False
        #: whether this import turned the index's automatic merging off (``_finish``)
        self._merging_off = False

    def run(self, paths: Iterable[Path]) -> ImportResult:
        """Import every file under ``paths``. Ctrl-C stops after rolling back the open batch."""
        roots = check_paths(paths)
        self.store.use_cache(IMPORT_CACHE_MB)
        started = time.monotonic()
        total = sum(1 for _ in iter_files(roots, drafts=self.drafts)) if self.progress else 0
        workers = _Workers(self.workers) if self.workers > 0 else None
        try:
            self._run(roots, total, workers)
            self._find_gone(roots)
            if workers is not None:
                workers.close()
                workers = None
            self._compact()
        except KeyboardInterrupt:
            self.result.interrupted = True
        finally:
            if workers is not None:
                workers.close()
            if self._merging_off:
                with self.store.transaction():
                    self.store.merge_index_while_writing(True)
            self.result.seconds = time.monotonic() - started
        return self.result

    def _run(self, roots: list[Path], total: int, pool: _Workers | None) -> None:
        # Each chunk is written in one short transaction while the next one is being parsed:
        # no lock is held while parsing, so readers and other writers (another import,
        # maintenance) get their turn, and a crash loses at most the chunk being written.
        files = iter_files(roots, drafts=self.drafts, sites=self.result.sites)
        done = 0
        self._use_dictionary(train=False)
        writing = self._start(files, pool)
        while writing is not None:
            parsing = self._start(files, pool)
            done += self._finish(*writing)
            if self.dict_ref is None:
                # a new archive: once it has posts enough, train its dictionary, so that the
                # chunks parsed from now on are packed by the workers
                self._use_dictionary(train=True)
            if self.progress:
                self.progress(done, total)
            writing = parsing
        # the posts written before there was a dictionary (or by an older newsarc)
        self.store.pack_posts()

    def _compact(self) -> None:
        """Compact the archive after an import that wrote a good share of its posts (a new
        archive always), unless turned off; ``result.compacted`` says whether it was."""
        from .queries import count_posts

        written = self.result.imported + self.result.updated
        if not self.compact or not written:
            return
        if written < COMPACT_SHARE * count_posts(self.store):
            return
        if self.progress:
            self.progress(COMPACTING, COMPACTING)
        started = time.monotonic()
        self.result.compacted = self.store.compact()
        self.result.compact_seconds = time.monotonic() - started

    def _use_dictionary(self, *, train: bool) -> None:
        from .queries import latest_dictionary

        latest = latest_dictionary(self.store)
        dict_id = latest.id if latest is not None else None
        if dict_id is None and train:
            dict_id = self.store.train_dictionary()
        if dict_id is not None:
            self.dict_ref = (os.path.abspath(self.store.path), dict_id)

    def _start(
        self, files: Iterator[Path], pool: _Workers | None
    ) -> tuple[Iterator[Prepared], int] | None:
        """Look up the next chunk of ``files`` and start parsing the new and changed ones; None
        when there are no files left. A chunk has at most ``CHUNK`` files and ``CHUNK_BYTES``
        bytes to read, so that two chunks of results fit in memory whatever the files."""
        tasks = []
        n = size = 0
        with self.store.snapshot():
            for path in files:
                n += 1
                task = self._task(path)
                if task is not None:
                    tasks.append(task)
                    size += task[1]
                if n == CHUNK or size >= CHUNK_BYTES:
                    break
        if not n:
            return None
        if pool is not None and tasks:
            results = pool.map(tasks)
        else:  # in this process, in the workers' batches (signed together)
            results = itertools.chain.from_iterable(map(_prepare_batch, _batches(tasks)))
        return results, n

    def _task(self, path: Path) -> Task | None:
        """What a worker needs to prepare a new or changed file; None for an unchanged one."""
        self.result.files += 1
        spath = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            self._fail(spath, "unreadable", f"{spath}: cannot read ({exc.strerror})")
            return None
        state = file_state(self.store, spath)
        if state is not None and state.status == "failed":
            state = None  # a file that failed is read again, even unchanged
        if state is not None and (state.options or DEFAULT_OPTIONS) != self.options:
            self._reparse.add(spath)
            self.result.reparsed += 1
            return (spath, st.st_size, st.st_mtime_ns, None, self.tz, self.dict_ref)
        if state is not None and (state.size, state.mtime_ns) == (st.st_size, st.st_mtime_ns):
            self._unchanged(spath, state)
            return None
        known = state.hash if state is not None else None
        return (spath, st.st_size, st.st_mtime_ns, known, self.tz, self.dict_ref)

    def _finish(self, results: Iterator[Prepared], files: int) -> int:
        """Write a chunk's parsed files in one transaction; returns how many files it had."""
        prepared = list(results)
        if prepared:
            with self.store.transaction(), self.store.buffer_stories():
                if not self._merging_off:  # set in the first write: an import of nothing new
                    self.store.merge_index_while_writing(False)  # writes nothing
                    self._merging_off = True
                self._check_known(len(prepared))
                for p in prepared:
                    self._write(p)
        return files

    def _write_with_story(self, p: Prepared, post_id: int | None) -> int:
        """Write a new post (``post_id`` None) or new content of a stored one, in its story:
        a changed post leaves its story first and is placed again."""
        store = self.store
        assert p.row is not None
        if post_id is not None:
            store.detach_story(post_id)
        sig = p.story_sig if p.story_sig is not None else signature(p.text)
        if self._threshold is None:
            self._threshold = store.story_threshold()
        plan = store.plan_story(
            sig, p.text, p.row["date_utc"], post_id, threshold=self._threshold, known=self._known
        )
        post_id = store.write_post({**p.row, "story": plan.story}, p.fts, post_id)
        store.record_story(post_id, plan)
        if self._known is not None and not plan.sig.empty:
            self._known.add(plan.sig.band_keys())
            self._known_last = max(self._known_last, post_id)
        return post_id

    def _check_known(self, files: int) -> None:
        """At the start of each chunk's transaction (of ``files`` files to write): an import
        into an archive of at most ``KNOWN_KEYS_MAX`` posts, and not many more than its first
        chunk brings, keeps the band keys in memory (``stories.KeyFilter``), so that most new
        posts need no index lookup for their candidates. Loading them costs more than it saves
        in a bigger archive, or for a few posts. The keys are dropped for good as soon as
        another process has added posts (the highest signed post is not this import's): its
        keys are not in memory, and a post's candidates must never be missed."""
        from .queries import last_signed_post, stored_band_keys

        last = last_signed_post(self.store)
        if self._known is not None:
            if last != self._known_last:
                self._known = None
        elif not self._known_tried:
            self._known_tried = True
            if last <= min(KNOWN_KEYS_MAX, KNOWN_KEYS_RATIO * files):
                self._known = KeyFilter()
                self._known.add(stored_band_keys(self.store))
                self._known_last = last

    def _unchanged(self, path: str, state: FileState | None) -> None:
        """A file not read again: counted as before, with what was found when it was read."""
        if state is not None and state.status == "skipped":
            message = state.message or state.reason or "not a post"
            self.result.note("skipped", path, f"{path}: {message}", state.reason or "not a post")
            return
        self.result.unchanged += 1
        for warning in state.warnings if state is not None else ():
            self.result.note("warning", path, f"{path}: {warning}")

    def _find_gone(self, roots: list[Path]) -> None:
        """Mark the recorded files under ``roots`` that are no longer there (and those back
        again); with ``prune``, forget them and delete the posts left without a file."""
        gone: dict[str, None] = {}
        back: dict[str, None] = {}
        with self.store.snapshot():
            # streamed: only the (few) changes are held, whatever the archive's size
            for root in dict.fromkeys(str(r) for r in roots):
                for path, was_gone in recorded_paths(self.store, root):
                    if not _exists(path):
                        gone[path] = None
                    elif was_gone:
                        back[path] = None
        self.result.gone = len(gone)
        if not gone and not back:
            return
        with self.store.transaction():
            self.store.mark_gone(list(gone), True)
            self.store.mark_gone(list(back), False)
            if self.prune and gone:
                self.result.pruned_files, self.result.pruned_posts = self.store.prune()

    def _fail(self, path: str, reason: str, message: str) -> None:
        self.result.note("failed", path, message, reason)

    def _write(self, p: Prepared) -> None:
        store, result = self.store, self.result
        if p.status == "same":
            store.touch_file(p.path, p.size, p.mtime_ns)
            self._unchanged(p.path, file_state(store, p.path))
            return
        if p.status in ("skipped", "failed"):
            message = one_line(p.message or p.reason or p.status)
            if not message.startswith(one_line(p.path)):
                message = f"{p.path}: {message}"
            if p.status == "skipped":
                result.note("skipped", p.path, message, p.reason or "not a post")
            else:
                self._fail(p.path, p.reason or "invalid", message)
            store.record_file(
                p.path, size=p.size, mtime_ns=p.mtime_ns, hash=p.hash or None,
                status=p.status, reason=p.reason, message=message.removeprefix(f"{p.path}: "),
                options=self._recorded_options,
            )  # fmt: skip
            return
        assert p.row is not None
        for warning in p.warnings:
            result.note("warning", p.path, f"{p.path}: {warning}")
        existing = find_post_by_external_id(store, p.external_id)
        status = "post"
        if existing is None:
            post_id = self._write_with_story(p, None)
            result.imported += 1
        else:
            post_id = existing.id
            previous = file_state(store, p.path)
            known_here = previous is not None and previous.post_id == post_id
            # the file the stored content came from: its new content is the post's, whatever
            # its time; read again with other options, its post is rewritten
            is_source = existing.source_path == db_text(p.path)
            stored_rank = copy_rank(existing.source_path or "", existing.source_mtime_ns or 0)
            rank = copy_rank(p.path, p.mtime_ns)
            if existing.hash == p.hash and not (is_source and p.path in self._reparse):
                # the same content as stored: another copy, or this file's unchanged content
                if known_here:
                    status = previous.status if previous else "post"
                    result.unchanged += 1
                else:
                    status = "duplicate"
                    result.duplicates += 1
            elif is_source or rank < stored_rank:
                self._write_with_story(p, post_id)
                store.mark_duplicates(post_id, p.path)
                if known_here:
                    result.updated += 1
                else:
                    result.duplicates += 1
                    if rank[:2] < stored_rank[:2] and rank[0] == stored_rank[0]:
                        result.newer_copies += 1
                    else:
                        result.canonical_copies += 1
            else:
                status = "duplicate"
                result.duplicates += 1
        store.record_file(
            p.path, size=p.size, mtime_ns=p.mtime_ns, hash=p.hash, status=status, post_id=post_id,
            warnings=p.warnings, options=self._recorded_options,
        )  # fmt: skip
