"""Jinja2 templates for the files the deploys own."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
                   keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def render(name: str, data, **extra) -> str:
    """Render template ``name`` from the host's data (attributes) and ``extra`` values."""
    source = _ENV.loader.get_source(_ENV, name)[0]
    wanted = meta.find_undeclared_variables(_ENV.parse(source)) - set(extra)
    values = {key: getattr(data, key) for key in wanted}
    missing = sorted(key for key, value in values.items() if value is None)
    if missing:
        raise ValueError(f"{name}: no value for {', '.join(missing)} in the host's data")
    return _ENV.get_template(name).render(**values, **extra)
