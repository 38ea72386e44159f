"""The runbooks (runbooks/*.md), as pages Prometheus itself serves on the monitor host.

Every alert's ``runbook_url`` is ``<Prometheus's external URL>/consoles/runbooks/<Alert>.html``:
Prometheus serves its console directory behind the same HTTPS and password as its other
pages, so the page is where the alert is, with nothing more to run. A console is a Go
template: the Markdown goes in as escaped text, and any ``{{`` in it is printed literally.
"""

from __future__ import annotations

import html
from pathlib import Path

RUNBOOKS_SOURCE = Path(__file__).resolve().parents[1] / "runbooks"
CONSOLES_DIR = "/etc/prometheus/consoles"

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
pre{{white-space:pre-wrap;font-size:1rem;line-height:1.4}}</style></head>
<body><pre>{body}</pre></body></html>
"""


def console_page(markdown: str, title: str) -> str:
    """A runbook page as a Prometheus console template: the Markdown as literal, escaped text."""
    body = html.escape(markdown).replace("{{", '{{"{{"}}')
    return PAGE.format(title=html.escape(title), body=body)


def runbook_pages() -> dict[str, str]:
    """Console file name -> page, for every runbook in the repository."""
    return {f"{path.stem}.html": console_page(path.read_text(), path.stem)
            for path in sorted(RUNBOOKS_SOURCE.glob("*.md")) if path.stem != "README"}
