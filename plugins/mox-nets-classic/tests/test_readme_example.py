"""The README's five-line example runs as written and trains."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    section = text.split("## Five lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_builds_a_graph_that_trains():
    namespace: dict = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    tf = namespace["tf"]
    with namespace["loss"].graph.as_default(), tf.Session() as session:
        session.run(tf.global_variables_initializer())
        first = session.run(namespace["loss"])
        for _ in range(5):
            session.run(namespace["train_op"])
        assert session.run(namespace["loss"]) < first
