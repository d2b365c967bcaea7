"""Notebooks: the code cells go through the same port as a script, with TensorFlow's own
notebook helper (``tensorflow.tools.compatibility.ipynb``, what ``tf_upgrade_v2`` uses).

The helper joins the Python cells into one text, turning magics (``%matplotlib``, ``!pip``)
into comments, and puts the rewritten lines back into their cells; the port keeps the number
of lines, which is what the helper needs. The helper expects each cell's ``source`` as a list
of lines, so a notebook that stores it as one string is handed over as lists and written back
as it was. Report lines are given as cell number (counting every cell, from 1) and line.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable

from mox_core.port.report import PortError


def _ipynb():
    from tensorflow.tools.compatibility import ipynb

    return ipynb


def port_notebook(raw: str, name: str, port_source: Callable) -> tuple[str, list, list]:
    """The notebook text ``raw`` with its code ported by ``port_source(text, name)``; the
    changes and problems located by cell and line."""
    ipynb = _ipynb()
    try:
        notebook = json.loads(raw)
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PortError(name, None, f"not a Jupyter notebook ({exc})") from None
    was_string = [isinstance(cell.get("source"), str) for cell in cells]
    for cell in cells:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    with tempfile.NamedTemporaryFile("w", suffix=".ipynb", delete=False,
                                     encoding="utf-8") as handle:
        json.dump(notebook, handle)
    try:
        code_lines, notebook = ipynb._get_code(handle.name)
    finally:
        os.unlink(handle.name)
    locate = _locator(notebook["cells"], code_lines, ipynb.is_python)
    text = "\n".join(line.code for line in code_lines)
    try:
        new_text, changes, problems = port_source(text, name)
    except PortError as exc:
        cell, line = locate(exc.line or 1)
        raise PortError(name, line, exc.reason, cell=cell) from None
    for entry in (*changes, *problems):
        entry.cell, entry.line = locate(entry.line)
    if new_text == text:
        return raw, changes, problems
    updated = ipynb._update_notebook(notebook, code_lines, new_text.split("\n"))
    for cell, as_string in zip(updated["cells"], was_string):
        if not as_string and isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(updated, indent=1, ensure_ascii=False) + "\n", changes, problems


def _locator(cells: list, code_lines: list, is_python: Callable):
    """line of the joined code -> (cell number among all cells from 1, line in that cell)."""
    python_cells = [index for index, cell in enumerate(cells) if is_python(cell)]
    places = []
    seen: dict[int, int] = {}
    for code_line in code_lines:
        seen[code_line.cell_number] = seen.get(code_line.cell_number, 0) + 1
        places.append((python_cells[code_line.cell_number] + 1, seen[code_line.cell_number]))

    def locate(line: int) -> tuple[int, int]:
        return places[min(max(line, 1), len(places)) - 1] if places else (1, line)

    return locate
