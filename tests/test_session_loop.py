"""HookedSession, the single-process training loop's session, keeps MonitoredSession's hook
contract: the same calls, in the same order, with the same values."""

from __future__ import annotations

import pytest
import tensorflow.compat.v1 as tf

from mox_core.executor.session_loop import HookedSession


class Recorder(tf.train.SessionRunHook):
    """Asks for ``fetches`` (and ``feed_dict`` / run options) every step, records every call."""

    def __init__(self, fetches=None, feed_dict=None, trace=False, stop_after=None):
        self.fetches, self.feed_dict, self.trace = fetches, feed_dict, trace
        self.stop_after = stop_after
        self.calls: list[str] = []
        self.results: list = []
        self.metadata: list[bool] = []

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")

    def before_run(self, run_context):
        self.calls.append("before_run")
        if self.fetches is None and self.feed_dict is None and not self.trace:
            return None
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) if self.trace else None
        return tf.train.SessionRunArgs(self.fetches, self.feed_dict, options)

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.results.append(run_values.results)
        self.metadata.append(bool(run_values.run_metadata and
                                  run_values.run_metadata.step_stats.dev_stats))
        if self.stop_after is not None and len(self.results) >= self.stop_after:
            run_context.request_stop()

    def end(self, session):
        self.calls.append("end")


def run_both(build, steps):
    """Run ``steps`` steps of the graph ``build()`` makes, under MonitoredSession and under
    HookedSession; returns each one's (step results, hooks)."""
    outcomes = []
    for session_class in (tf.train.MonitoredSession, HookedSession):
        with tf.Graph().as_default():
            fetches, hooks = build()
            results = []
            with session_class(tf.train.ChiefSessionCreator(), hooks) as session:
                while not session.should_stop() and len(results) < steps:
                    results.append(session.run(fetches))
            outcomes.append((results, hooks))
    return outcomes


def counter_graph():
    """The step's increment, and the step's value read before it (ordered, so that a hook
    fetching it sees the same number under either session, whatever the scheduling)."""
    step = tf.train.get_or_create_global_step()
    before = tf.identity(step.read_value())
    with tf.control_dependencies([before]):
        return step.assign_add(1), before


def test_hooks_see_the_same_calls_and_values_as_under_monitored_session():
    def build():
        increment, step = counter_graph()
        feed = tf.placeholder_with_default(tf.constant(0.0), [])
        hooks = [Recorder(), Recorder({"ten": tf.constant(5) * 2}), Recorder(feed * 3, {feed: 2.0}),
                 Recorder(step, trace=True)]
        return {"new": increment, "fed": feed}, hooks

    (monitored, monitored_hooks), (hooked, hooked_hooks) = run_both(build, steps=3)
    assert hooked == monitored
    assert [r["new"] for r in hooked] == [1, 2, 3]
    assert [r["fed"] for r in hooked] == [2.0, 2.0, 2.0]  # a hook's feed reaches the step
    for theirs, ours in zip(monitored_hooks, hooked_hooks):
        assert ours.calls == theirs.calls
        assert ours.results == theirs.results
    assert hooked_hooks[0].calls == ["begin", "after_create_session"] + [
        "before_run", "after_run"] * 3 + ["end"]
    assert hooked_hooks[0].results == [None] * 3
    assert hooked_hooks[1].results == [{"ten": 10}] * 3
    assert hooked_hooks[3].results == [0, 1, 2]  # the step before each increment
    assert hooked_hooks[3].metadata == [True] * 3  # run options give run metadata


def test_a_hook_stops_the_loop_and_running_out_of_input_ends_it_normally():
    def stopping():
        increment, _ = counter_graph()
        return increment, [Recorder(stop_after=2)]

    (_, _), (results, hooks) = run_both(stopping, steps=10)
    assert results == [1, 2] and hooks[0].calls[-1] == "end"

    def short_input():
        value = tf.data.make_one_shot_iterator(tf.data.Dataset.range(3)).get_next()
        return value, [Recorder()]

    for results, hooks in run_both(short_input, steps=10):
        assert results == [0, 1, 2]
        assert hooks[0].calls[-1] == "end"  # OutOfRangeError: a normal end


def test_two_hooks_feeding_one_tensor_is_an_error():
    with tf.Graph().as_default():
        feed = tf.placeholder_with_default(1.0, [])
        hooks = [Recorder(feed_dict={feed: 2.0}), Recorder(feed_dict={feed: 3.0})]
        with pytest.raises(RuntimeError, match="two session hooks feed the same tensor"):
            with HookedSession(tf.train.ChiefSessionCreator(), hooks) as session:
                session.run(feed)
        assert "end" not in hooks[0].calls  # hooks end only on a normal finish


def test_queue_runners_feed_the_steps():
    with tf.Graph().as_default():
        queue = tf.FIFOQueue(10, tf.int32)
        tf.train.add_queue_runner(tf.train.QueueRunner(queue, [queue.enqueue([7])]))
        value = queue.dequeue()
        with HookedSession(tf.train.ChiefSessionCreator(), []) as session:
            assert [session.run(value) for _ in range(3)] == [7, 7, 7]
