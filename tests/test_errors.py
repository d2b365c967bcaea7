"""Typed data errors: explainers registered per graph turn TensorFlow's errors into DataErrors."""

from __future__ import annotations

import gc
import pickle
import weakref

import pytest
import tensorflow.compat.v1 as tf

from mox_core.errors import DataError, add_explainer, cli_spelling, explain_data_errors


def explain_negative(error):
    """An explainer: a failed "positive" check names the record it was about."""
    if "must be positive" not in error.message:
        return None
    return DataError("records/part-3", "a negative weight", subject="bad record in",
                     skip_option="skip_bad_records")


def test_an_explainer_turns_the_errors_it_knows_into_data_errors_of_its_graph_only():
    with tf.Graph().as_default() as graph, tf.Session() as session:
        add_explainer(graph, explain_negative)
        add_explainer(graph, explain_negative)  # once, however often it is added
        check = tf.debugging.assert_positive(tf.placeholder_with_default(-1.0, []), message="must be positive")
        with pytest.raises(DataError) as raised, explain_data_errors(graph):
            session.run(check)
        with pytest.raises(tf.errors.InvalidArgumentError) as other, explain_data_errors(graph):
            session.run(tf.debugging.assert_negative(tf.placeholder_with_default(1.0, []), message="must be negative"))
    assert raised.value.message == ("mox: bad record in records/part-3: a negative weight. Fix "
                                    "or remove the file, or pass skip_bad_records=True to skip "
                                    "such files.")
    assert isinstance(raised.value.__cause__, tf.errors.InvalidArgumentError)
    assert "--skip-bad-records" in raised.value.describe(cli_spelling)
    assert not isinstance(other.value, DataError)
    with tf.Graph().as_default() as unexplained, tf.Session() as session:  # no explainer here
        check = tf.debugging.assert_positive(tf.placeholder_with_default(-1.0, []), message="must be positive")
        with pytest.raises(tf.errors.InvalidArgumentError) as plain:
            with explain_data_errors(unexplained):
                session.run(check)
    assert not isinstance(plain.value, DataError)


def test_explainers_do_not_keep_their_graph_alive():
    graph = tf.Graph()
    add_explainer(graph, explain_negative)
    gone = weakref.ref(graph)
    del graph
    gc.collect()
    assert gone() is None


def test_message_around_cuts_the_message_where_path_and_reason_go():
    details = {"subject": "cannot decode image file", "skip_option": "skip_corrupt"}
    before, between, after = DataError.message_around(**details)
    assert before + "a.jpg" + between + "empty" + after == DataError("a.jpg", "empty",
                                                                     **details).message


def test_an_error_whose_message_is_not_utf8_is_explained_too():
    """TensorFlow quotes a record that does not parse byte for byte; ``Session.run`` then raises
    ``UnicodeDecodeError`` instead of the error, and the explainers still get its words."""
    def explain_parse(error):
        if "Could not parse example input" not in error.message:
            return None
        return DataError("records/part-1", "a record is not an Example", subject="bad record in")

    with tf.Graph().as_default() as graph, tf.Session() as session:
        add_explainer(graph, explain_parse)
        parsed = tf.io.parse_single_example(tf.placeholder(tf.string, []), {
            "label": tf.io.FixedLenFeature([], tf.int64)})
        with pytest.raises(DataError) as raised, explain_data_errors(graph):
            session.run(parsed, {"Placeholder:0": b"\x01garbage\xff\xfe" * 5})
    assert raised.value.path == "records/part-1"
    assert isinstance(raised.value.__cause__, UnicodeDecodeError)


def test_a_data_error_says_what_its_skip_option_does_and_survives_pickling():
    error = DataError("data/dogs", "it has no image files", subject="class 1 folder",
                      action="Add its images", skip_option="skip_corrupt",
                      skips="to train without that class's samples")
    again = pickle.loads(pickle.dumps(error))
    assert again.describe(cli_spelling) == error.describe(cli_spelling) == (
        "class 1 folder data/dogs: it has no image files. Add its images, or pass --skip-corrupt "
        "to train without that class's samples.")
