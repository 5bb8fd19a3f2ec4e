"""A CheckpointHook whose checkpoints survive a crash or SIGKILL at any moment of saving.

MMEngine's ``CheckpointHook`` (0.10.x) writes ``epoch_N.pth`` in place, then overwrites the ``last_checkpoint``
pointer file in place, and deletes the oldest kept checkpoint *before* writing the new one. A process killed while
saving can therefore leave a truncated checkpoint, an empty ``last_checkpoint`` (``--resume`` then fails), or, with
``max_keep_ckpts=1``, no loadable checkpoint at all.

:class:`AtomicCheckpointHook` keeps every argument and file name of ``CheckpointHook`` and changes only the order
and the way files are written (local file systems):

1. the checkpoint is written to a hidden temporary file in the same folder (``.epoch_N.pth.tmp-<pid>``), flushed
   to disk (``fsync``), then renamed over the final name with ``os.replace`` (atomic on POSIX and Windows);
2. ``last_checkpoint`` is replaced the same way, only after the checkpoint is complete;
3. only then are checkpoints beyond ``max_keep_ckpts`` deleted.

At any kill point the previous ``last_checkpoint`` still names a complete checkpoint, so ``--resume`` continues
from it. Left-over temporary files of a killed run are removed at the next ``before_train``. Best checkpoints
(``save_best``) are written atomically too. Non-local backends (``backend_args`` for S3 etc.) fall back to the
parent behaviour with a warning.
"""
import functools
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmpose.registry import HOOKS

#: Temporary files this hook creates: ``.<final name>.tmp-<pid>`` next to the final file.
TEMP_PATTERN = re.compile(r"^\..+\.tmp-\d+$")


def fsync_dir(path: str) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_file(tmp_path: str, final_path: str) -> None:
    """Flush ``tmp_path`` to disk and atomically rename it to ``final_path`` (replacing it)."""
    with open(tmp_path, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, final_path)
    fsync_dir(osp.dirname(osp.abspath(final_path)))


def atomic_write_text(path: str, text: str) -> None:
    """Write a small text file so readers see the old or the new content, never a partial one."""
    tmp = osp.join(osp.dirname(osp.abspath(path)), f".{osp.basename(path)}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(text)
    commit_file(tmp, path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` with crash-safe saving; same arguments (see the module docstring).

    Config use (replaces the default checkpoint hook)::

        default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=40, max_keep_ckpts=3))
    """

    def before_train(self, runner: Any) -> None:
        """Set up as ``CheckpointHook`` does, then remove temporary files left by a killed run."""
        super().before_train(runner)
        if self._is_local() and is_main_process() and osp.isdir(self.out_dir):
            for name in os.listdir(self.out_dir):
                if TEMP_PATTERN.match(name):
                    os.remove(osp.join(self.out_dir, name))
                    print_log(f"AtomicCheckpointHook: removed an incomplete checkpoint of a previous run: {name}",
                              logger="current", level=30)

    def _is_local(self) -> bool:
        return isinstance(getattr(self, "file_backend", None), LocalBackend)

    def _save_checkpoint_with_step(self, runner: Any, step: int, meta: dict) -> None:
        """Save the checkpoint of ``step``: temp file -> rename -> pointer -> delete old ones."""
        if not self._is_local():
            print_log("AtomicCheckpointHook: atomic saving needs a local out_dir; using CheckpointHook's saving",
                      logger="current", level=30)
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # stored inside the checkpoint (message hub), so a resumed run deletes the right files later
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = osp.join(self.out_dir, filename)
        runner.message_hub.update_info("last_ckpt", self.last_ckpt)
        self._atomic_save(runner, filename, meta=meta)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, "last_checkpoint"), self.last_ckpt)
        for old in outdated:
            path = osp.join(self.out_dir, self.filename_tmpl.format(old))
            if osp.isfile(path):
                os.remove(path)

    def _save_best_checkpoint(self, runner: Any, metrics: dict) -> None:
        """``CheckpointHook``'s best-checkpoint logic, with every write made atomic."""
        if not self._is_local():
            return super()._save_best_checkpoint(runner, metrics)
        with self._atomic_runner_saves(runner):
            super()._save_best_checkpoint(runner, metrics)

    def _atomic_save(self, runner: Any, filename: str, meta: Optional[dict] = None,
                     save_fn: Optional[Any] = None, **overrides: Any) -> None:
        """Let the runner write ``filename`` into ``out_dir`` through a temporary file."""
        save = save_fn or functools.partial(type(runner).save_checkpoint, runner)  # the class's, never the patch
        tmp_name = f".{filename}.tmp-{os.getpid()}"
        kwargs = dict(save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                      meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        kwargs.update(overrides)
        save(self.out_dir, tmp_name, self.file_client_args, **kwargs)
        if is_main_process():  # Runner.save_checkpoint writes on the main process only
            commit_file(osp.join(self.out_dir, tmp_name), osp.join(self.out_dir, filename))

    @contextmanager
    def _atomic_runner_saves(self, runner: Any) -> Iterator[None]:
        """Route ``runner.save_checkpoint`` calls made by the parent class through :meth:`_atomic_save`."""
        original = runner.save_checkpoint

        def save(out_dir: str, filename: str, file_client_args: Optional[dict] = None, **kwargs: Any) -> None:
            if osp.abspath(out_dir) != osp.abspath(self.out_dir):
                return original(out_dir, filename, file_client_args, **kwargs)
            self._atomic_save(runner, filename, save_fn=original, **kwargs)

        runner.save_checkpoint = save
        try:
            yield
        finally:
            del runner.save_checkpoint  # the instance attribute shadowed the method; restore it
