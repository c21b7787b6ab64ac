"""Rewrite the generated block of a hand-edited Markdown page, keeping everything around it.

`make default-model` and `make study` both measure something and write the figures into a page whose
prose is written by hand (resources/models/default.md, docs/study.md); the figures live between two
HTML-comment markers so a rerun replaces only them.
"""

from __future__ import annotations

from pathlib import Path


def replace_block(page: Path, start: str, end: str, body: list[str], title: str) -> None:
    """Put `body` (lines) between the markers `start` and `end` of `page`.

    A missing page is created with `title` as its heading; a page without the markers gets them appended.
    """
    text = page.read_text(encoding="utf-8") if page.exists() else f"# {title}\n\n{start}\n{end}\n"
    if start not in text or end not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    page.write_text(head + "\n".join([start, *body, end]) + tail, encoding="utf-8")
