"""Hostile text for tests, generated in code: template syntax, markup, control characters.

Every text field of a record and every form field is tried with these across every surface
(maps, pages, exports, the terminal); ``evaluated`` tells whether a page shows signs that one
ran on the server.
"""

from __future__ import annotations

# Jinja syntax that would compute, leak or break if any of it were part of a template's source:
# "{{ 7*191 }}" would print 1337, the globals one reaches os, "{#" and "{%" are syntax errors.
TEMPLATE_PAYLOADS = [
    "{{ 7*191 }}",
    "{{ lipsum.__globals__.os.getcwd() }}",
    "{{ config }}{{ self }}",
    "{% if 1 %}",
    "{% endif %}",
    "Group {#1} Choir",
    "{#",
    "#} }} %}",
    "{{'aop_probe'}}",
    "{% raw %}",
]
MARKUP_PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "**bold** [link](http://evil.example) ![img](http://evil.example/x.png)",
    "`${alert(3)}`\\u",
    '=HYPERLINK("http://evil.example")',
    "+1",
    "-2",
    "@SUM(A1)",
    'Tom & Jerry\'s "choir"',
]
CONTROL_PAYLOADS = ["\x1b[2J", "\x1b]8;;http://evil.example\x07x\x1b]8;;\x07", "a\rb", "\x07"]


def evaluated(text: str) -> bool:
    """Whether `text` (a rendered page, script or file) shows a template payload having run:
    7*191 computed (1337, not inside a longer number such as a coordinate), the server's
    working directory printed, or a template syntax error."""
    import os
    import re

    return (
        bool(re.search(r"(?<![\d.])1337(?![\d])", text))
        or os.getcwd() in text
        or ("TemplateSyntaxError" in text)
    )
