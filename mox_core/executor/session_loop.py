"""The session of a run in one process: ``MonitoredSession``'s hook contract, lighter per step.

A single-process run steps a few hundred times a second on small models, and then the Python
between steps counts: ``MonitoredSession`` passes each step through five session
wrappers and builds a new fetch handler for every ``session.run``. ``HookedSession`` keeps the
contract hooks rely on -- ``begin``, ``after_create_session``, ``before_run`` / ``after_run``
with merged fetches and feeds, ``request_stop``, ``end`` on a normal finish or when the input
runs out, queue runners under a coordinator -- and runs each step through a callable made once
per combination of fetches (``Session.make_callable``; hooks ask for the same tensors step after
step), which is what a hand-written loop's ``session.run`` costs at best. Steps with feeds or
run options go through ``Session.run``.

What it leaves out is ``MonitoredSession``'s recovery (re-creating the session after a
parameter server restarts): distributed workers keep using ``MonitoredSession``.
"""

from __future__ import annotations

from typing import Any

import tensorflow.compat.v1 as tf

#: how long the queue-runner threads get to stop when the session closes (as MonitoredSession)
STOP_GRACE_SECS = 120


class HookedSession:
    """``with HookedSession(creator, hooks) as session: while not session.should_stop():
    session.run(fetches)``; leaving the block normally or on ``OutOfRangeError`` (the input ran
    out) calls every hook's ``end`` and ends the run without an error."""

    def __init__(self, session_creator: Any, hooks: list[tf.train.SessionRunHook]) -> None:
        self._creator = session_creator
        self._hooks = list(hooks)
        self._stop = False
        self._callables: dict[Any, Any] = {}
        self.session: tf.Session | None = None

    def __enter__(self) -> HookedSession:
        for hook in self._hooks:
            hook.begin()
        self.session = self._creator.create_session()
        self._coord = tf.train.Coordinator(clean_stop_exception_types=[])
        self._threads = []
        if tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
            self._threads = tf.train.start_queue_runners(sess=self.session, coord=self._coord)
        for hook in self._hooks:
            hook.after_create_session(self.session, self._coord)
        return self

    def should_stop(self) -> bool:
        return self._stop or self._coord.should_stop()

    def run(self, fetches: Any) -> Any:
        """Run ``fetches`` for one step with every hook's ``before_run`` / ``after_run``."""
        context = tf.train.SessionRunContext(tf.train.SessionRunArgs(fetches), self.session)
        requests = [hook.before_run(context) for hook in self._hooks]
        try:
            if any(request is not None for request in requests):
                result = self._run_with_requests(context, fetches, requests)
            else:
                result = self._callable(fetches)()
                values = tf.train.SessionRunValues(results=None, options=None, run_metadata=None)
                for hook in self._hooks:
                    hook.after_run(context, values)
        except tf.errors.OutOfRangeError:
            raise
        except Exception:
            self._coord.raise_requested_exception()  # a queue runner's error explains it better
            raise
        self._stop = self._stop or context.stop_requested
        return result

    def _callable(self, fetches: Any) -> Any:
        try:
            key = _fetch_key(fetches)
            return self._callables[key]
        except KeyError:
            made = self._callables[key] = self.session.make_callable(fetches)
            return made
        except TypeError:  # something unhashable among the fetches: no cache
            return lambda: self.session.run(fetches)

    def _run_with_requests(self, context: Any, fetches: Any, requests: list) -> Any:
        merged: dict[Any, Any] = {"caller": fetches}
        feed_dict: dict[Any, Any] = {}
        options = tf.RunOptions()
        wants_metadata = False
        for index, request in enumerate(requests):
            if request is None:
                continue
            if request.fetches is not None:
                merged[index] = request.fetches
            for key, value in (request.feed_dict or {}).items():
                if key in feed_dict:
                    raise RuntimeError(f"two session hooks feed the same tensor {key}")
                feed_dict[key] = value
            if request.options is not None:
                options.MergeFrom(request.options)
                wants_metadata = True
        metadata = tf.RunMetadata() if wants_metadata else None
        if feed_dict or wants_metadata:
            results = self.session.run(merged, feed_dict=feed_dict or None,
                                       options=options if wants_metadata else None,
                                       run_metadata=metadata)
        else:
            results = self._callable(merged)()
        for index, (hook, request) in enumerate(zip(self._hooks, requests)):
            hook.after_run(context, tf.train.SessionRunValues(
                results=results.get(index) if request is not None else None,
                options=options, run_metadata=metadata))
        return results["caller"]

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        finished = exc_type is None or issubclass(exc_type, (tf.errors.OutOfRangeError,
                                                             StopIteration))
        try:
            if finished:
                for hook in self._hooks:
                    hook.end(self.session)
        finally:
            try:
                self._coord.request_stop()
                self._coord.join(self._threads, stop_grace_period_secs=STOP_GRACE_SECS,
                                 ignore_live_threads=True)
            finally:
                self.session.close()
                self.session = None
        return finished and exc_type is not None


def _fetch_key(fetches: Any) -> Any:
    """A hashable key equal for equal fetch structures of the same tensors and ops."""
    if isinstance(fetches, dict):
        return dict, tuple(sorted(((key, _fetch_key(value)) for key, value in fetches.items()),
                                  key=lambda item: str(item[0])))
    if isinstance(fetches, (list, tuple)):
        return type(fetches), tuple(_fetch_key(value) for value in fetches)
    hash(fetches)  # TypeError when unhashable
    return fetches
