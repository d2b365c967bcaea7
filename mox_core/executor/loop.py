"""The one session loop of TRAIN, EVAL and PREDICT, and what decides how a session is made.

A mode hands :func:`run_loop` its :class:`Steps` (what to fetch each step, what to do with the
result) and its hooks; the loop adds the plugins' hooks, makes the session and steps it until
a hook or the mode stops it or the input runs out, naming bad data on the way
(:func:`mox_core.errors.explain_data_errors`). What differs between one process and a worker
of a cluster is only how the session is made (:class:`Connection`): a ``ChiefSessionCreator``
or a ``WorkerSessionCreator`` on this process's server, in the lighter :class:`HookedSession`
for one process or a ``MonitoredSession`` (which recovers from a restarted parameter server)
for a worker. What only the chief does -- checkpoints, summaries -- are hooks added in one
place, :func:`chief_hooks`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import tensorflow.compat.v1 as tf

from mox_core import errors, plugins
from mox_core.constants import ModeKeys
from mox_core.executor import distributed
from mox_core.executor.config import RunConfig
from mox_core.executor.guards import FiniteVariables
from mox_core.executor.logging_hooks import SummarySaverHook, summary_op
from mox_core.executor.session_loop import HookedSession


class Steps(Protocol):
    """What one mode runs each step: ``fetches``, and ``after_step`` with their values."""

    fetches: Any

    def after_step(self, local_step: int, values: Any) -> bool:
        """Use one step's ``values``; True ends the loop."""


@dataclasses.dataclass
class Connection:
    """Where this process's sessions run: in process (``server`` None), or on its own server
    in a cluster; ``session_config`` is the ``ConfigProto`` they get."""

    session_config: tf.ConfigProto
    server: Any = None  # a tf.distribute.Server, kept here so it serves as long as the run

    @property
    def master(self) -> str:
        return self.server.target if self.server is not None else ""


def connect(config: RunConfig) -> Connection:
    """One process: in process. A worker of a cluster: starts its server and waits (at most
    ``startup_timeout``) for the peers it cannot train without."""
    session_config = config.session_config()
    cluster = config.cluster
    if cluster is None:
        return Connection(session_config)
    session_config = distributed.worker_session_config(cluster, session_config)
    server = distributed.start_server(cluster, session_config)
    distributed.wait_for_peers(distributed.peers(cluster, config.sync_replicas),
                               config.startup_timeout, f"worker {cluster.task_index}")
    return Connection(session_config, server)


def _session_creator(config: RunConfig, scaffold: tf.train.Scaffold, connection: Connection):
    """The chief initializes the variables or restores them (TRAIN: the newest checkpoint in
    ``log_dir``, if any; EVAL / PREDICT: ``checkpoint_path``); another worker waits for it."""
    if not config.is_chief:
        return tf.train.WorkerSessionCreator(
            scaffold=scaffold, master=connection.master, config=connection.session_config,
            max_wait_secs=config.startup_timeout)
    if config.mode == ModeKeys.TRAIN:
        return tf.train.ChiefSessionCreator(scaffold=scaffold, master=connection.master,
                                            checkpoint_dir=config.log_dir,
                                            config=connection.session_config)
    tf.logging.info("Restoring %s", config.checkpoint_path)
    return tf.train.ChiefSessionCreator(
        scaffold=scaffold, master=connection.master,
        checkpoint_filename_with_path=config.checkpoint_path, config=connection.session_config)


def chief_hooks(config: RunConfig, scaffold: tf.train.Scaffold,
                log_tensors: dict[str, tf.Tensor]) -> list[tf.train.SessionRunHook]:
    """The work only the chief of a training run does, into ``log_dir``: checkpoints (every
    ``save_model_secs`` or ``save_model_steps``, and at the end; never of variables that are
    not finite: :class:`~mox_core.executor.guards.FiniteVariables`) and the ``log_info``
    summaries. None for other workers or without ``log_dir``."""
    if not config.is_chief or not config.log_dir:
        return []
    hooks = [tf.train.CheckpointSaverHook(
        config.log_dir, save_secs=config.save_model_secs, save_steps=config.save_model_steps,
        scaffold=scaffold, listeners=[FiniteVariables()])]
    summary = summary_op(log_tensors)
    if config.save_summary_steps and summary is not None:
        hooks.append(SummarySaverHook(save_steps=config.save_summary_steps,
                                      output_dir=config.log_dir, summary_op=summary))
    return hooks


def run_loop(config: RunConfig, steps: Steps, hooks: list[tf.train.SessionRunHook],
             scaffold: tf.train.Scaffold, connection: Connection, max_local_steps: int = 0) -> None:
    """Run ``steps`` in a session of the default graph with ``hooks`` and the plugins' hooks
    until a hook or ``steps`` stops, ``max_local_steps`` steps (0: no limit) are done, or the
    input runs out; every hook's ``end`` runs when it ends so."""
    hooks = [*hooks, *plugins.session_hooks(config)]
    config.precision.log()
    creator = _session_creator(config, scaffold, connection)
    with errors.explain_data_errors(tf.get_default_graph()):
        # (a MonitoredSession makes its session, initializing the input, as it is created)
        session = (HookedSession(creator, hooks) if config.cluster is None
                   else tf.train.MonitoredSession(session_creator=creator, hooks=hooks))
        with session as running:
            local_step = 0
            try:
                while not running.should_stop() and not (
                        max_local_steps and local_step >= max_local_steps):
                    if steps.after_step(local_step, running.run(steps.fetches)):
                        break
                    local_step += 1
            except tf.errors.OutOfRangeError:
                pass  # the input ran out: the normal end of its data
