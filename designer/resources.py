"""Where the designer's non-Python files are.

In a source checkout (and an editable install) they are the repository's top-level folders
``firmware_templates/`` and ``examples/``, next to the ``designer`` package. A regular install
(``pip install .``, a wheel) has no repository around it: pyproject.toml maps the two folders
into the package as ``designer/_bundled/firmware_templates`` and ``designer/_bundled/examples``.
Each folder is recognised by a file it must hold, so an unrelated ``examples`` folder next to
site-packages is not taken for ours.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_PLACES = (_PACKAGE.parent, _PACKAGE / "_bundled")


def _find(name: str, marker: str) -> Path:
    for base in _PLACES:
        if (base / name / marker).is_file():
            return base / name
    # not found: name the checkout's path in the error a missing file gives later
    return _PLACES[0] / name


#: the Jinja2 templates and the verbatim C libraries of the firmware
TEMPLATES = _find("firmware_templates", "platformio.ini.j2")
#: the portable C libraries (organ_dsp, organ_link, organ_app)
LIB = TEMPLATES / "lib"
#: the bundled example configs; classic.toml is what ``designer build`` builds by default
EXAMPLES = _find("examples", "classic.toml")
