"""Text from data shown as text: the one escape for every name, reason or message that the
app puts into Markdown (st.markdown, alerts, captions, toasts).

Streamlit renders those strings as Markdown, with its own `:red[...]` and `:emoji:`
directives and `$...$` maths: a unit named `![x](http://example.invalid/b.png)` would draw an
image fetched from outside in every viewer's alert list. `plain` puts a backslash before
every character that opens such a construct (CommonMark shows an escaped ASCII punctuation
character as itself) and turns line breaks into spaces, so that the text reads exactly as it
was written and starts no new block.
"""

from __future__ import annotations

import re
from typing import Any

# What makes images, links, emphasis, code, headings, tables, strike-through, maths and HTML.
# Punctuation that only means something next to these (parentheses, colons, dots) is left as
# it is, so that figures and sentences read as before.
MARKDOWN_CHARACTERS = "\\`*_[]<>#~$|!"
_SPECIAL = re.compile("([" + re.escape(MARKDOWN_CHARACTERS) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def plain(value: Any) -> str:
    """`value` as text that Markdown shows as written."""
    return _SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))
