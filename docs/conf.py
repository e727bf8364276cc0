"""Sphinx configuration: SB3's docs stack (autodoc, the Read-the-Docs theme), with the Markdown guides included as
they are (MyST), so no text is written twice. Build: `make docs` (warnings are errors)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "sb3-reinforce"
author = "sb3-reinforce developers"
with open(os.path.join(os.path.dirname(__file__), "..", "sb3_reinforce", "version.txt")) as file_handler:
    release = file_handler.read().strip()

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "results", "images", "api/_build"]
html_theme = "sphinx_rtd_theme"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
myst_heading_anchors = 3
# The guides link to files of the repository (scripts, result folders) that are not pages of these docs
suppress_warnings = ["myst.xref_missing", "myst.header"]
nitpicky = False
