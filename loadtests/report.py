"""A load test's report: one self-contained HTML file, read long after the run without Locust,
a server or a network.

It says, in order: the verdict, what failed, how response times moved over the run, whether
each journey reached its target visits per second, where failures happened and why, then the
journeys', endpoints' and volume model's figures. The plots are matplotlib SVGs inlined in
the page; every string from the result is escaped, since endpoint names and error messages
come from the portal's responses.

Input: the result dict that is also saved as ``result.json`` (see ``loadtests/outcome.py``).
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import matplotlib
import numpy
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from loadtests.profiles import Profile
from loadtests.slo import JOURNEY as JOURNEY_METHOD  # a journey's method in timeline keys

REPORT_FILE = "report.html"
FIGURE_WIDTH_INCHES = 11
MISSING = "—"
# Aggregate latency lines: (measure, how the endpoints' figures are combined, line style), all
# black: the colours are the journeys'.
LATENCY_LINES = (("p99_ms", "max", {"linestyle": ":", "linewidth": 1.6}),
                 ("p95_ms", "max", {"linestyle": "-", "linewidth": 1.2}),
                 ("p50_ms", "weighted mean", {"linestyle": "-", "linewidth": 2.6}))
STYLE = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 1.5em auto; max-width: 1150px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
.verdict { display: inline-block; font-size: 2.2em; font-weight: bold; padding: .1em .6em; border-radius: 4px;
           color: #fff; background: #666; letter-spacing: .05em; }
.verdict.pass { background: #2e7d32; }
.verdict.fail { background: #c62828; }
.verdict.invalid { background: #ef6c00; }
.run { color: #555; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fde0dc; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
details summary { cursor: pointer; margin: .6em 0; }
"""


def write(result: dict, directory: Path) -> Path:
    """Write ``directory/report.html`` from a load test's ``result``; the report's path."""
    path = Path(directory) / REPORT_FILE
    path.write_text(render(result), encoding="utf-8")
    return path


def render(result: dict) -> str:
    """The report of ``result`` as one HTML page (UTF-8, no external resources)."""
    profile = result.get("profile", {})
    title = f"Load test: {profile.get('name', MISSING)} against {result.get('target', {}).get('base_url', MISSING)}"
    sections = (
        header(result, title),
        failed_checks(result),
        section("response-times", "Response times over time", latency_figure(result)),
        section("visits", "Visits per second against target", throughput_figure(result)),
        section("failures", "Failures by endpoint", failures_figure(result) + "\n" + errors_table(result)),
        journeys_table(result),
        endpoints_table(result),
        volume_table(result),
    )
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n'
            + "\n".join(sections) + "\n</body>\n</html>\n")


# --- sections ------------------------------------------------------------------------------


def header(result: dict, title: str) -> str:
    """The title, the verdict word, when the run was and why it proves nothing, if it does not."""
    verdict = result.get("verdict", {})
    word = str(verdict.get("result", MISSING))
    started, ended = result.get("started_at"), result.get("ended_at")
    generator = result.get("generator", {})
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p><span id="verdict" class="verdict {escape(word.lower())}">{escape(word)}</span></p>',
             f'<p class="run">Started {escape(started or MISSING)}, ended {escape(ended or MISSING)}, '
             f"lasted {escape(run_length(started, ended))} "
             f"(profile: {escape(number(result.get('profile', {}).get('duration'), 0))} s). "
             f"Load generator: {escape(number(generator.get('processes')))} process(es), "
             f"CPU overloaded: {escape(yes_no(generator.get('cpu_overloaded')))}.</p>"]
    reasons = verdict.get("invalid") or []
    if reasons:
        parts.append("<p>The run is invalid: it proves nothing either way, because</p>\n<ul>"
                     + "".join(f"<li>{escape(reason)}</li>" for reason in reasons) + "</ul>")
    return "<header>\n" + "\n".join(parts) + "\n</header>"


def failed_checks(result: dict) -> str:
    """The checks that failed, then every check in a collapsed table."""
    checks = result.get("verdict", {}).get("checks", [])
    columns = ("kind", "name", "measure", "value", "limit")
    failed = [check for check in checks if not check.get("ok")]
    if failed:
        body = table(columns, ([check.get(c) for c in columns] for check in failed), fail=[True] * len(failed))
    else:
        body = "<p>Every check passed.</p>" if checks else "<p>No checks were made.</p>"
    everything = table(columns + ("ok",), ([*(check.get(c) for c in columns), yes_no(check.get("ok"))]
                                           for check in checks),
                       fail=[not check.get("ok") for check in checks])
    return section("what-failed", "What failed",
                   f"{body}\n<details><summary>All {len(checks)} checks</summary>\n{everything}\n</details>")


def latency_figure(result: dict) -> str:
    """Response times over the run: the endpoints' combined percentiles and each journey's p95."""
    intervals = timeline(result)
    colours = journey_colours(result)

    def draw(axes: Axes) -> None:
        times = [interval["t"] for interval in intervals]
        sent = any(endpoint_requests(interval["entries"]) for interval in intervals)
        for measure, combined, style in LATENCY_LINES if sent else ():
            values = [endpoint_latency(interval["entries"], measure) for interval in intervals]
            axes.plot(times, values, color="black", **style,
                      label=f"endpoints {measure.removesuffix('_ms')} ({combined})")
        for name, colour in colours.items():
            values = [journey_figure(interval["entries"], name, "p95_ms") for interval in intervals]
            if any(not math.isnan(v) for v in values):
                axes.plot(times, values, color=colour, linestyle="--", linewidth=1.4, label=f"journey {name} p95")
        if not sent:
            note(axes, "No requests were sent")
        logarithmic(axes)
        finish(axes, "Milliseconds", run_end(result, intervals))

    caption = ("Response times over time, per interval. Endpoints' p95 and p99 are the highest of the "
               "endpoints that had requests in the interval; their p50 is the endpoints' p50 weighted by "
               "requests. Dashed: each journey's p95 (a whole visit's wait for the portal, think time left out). "
               "Logarithmic scale: "
               "requests take milliseconds, visits seconds.")
    return figure("latency", draw, caption)


def throughput_figure(result: dict) -> str:
    """Each journey's visits per second, achieved (solid) against its target (dashed steps)."""
    intervals = timeline(result)
    colours = journey_colours(result)
    rates = {name: journey.get("rate_per_second") or 0 for name, journey in result.get("journeys", {}).items()}
    shape = profile_shape(result, intervals)

    def draw(axes: Axes) -> None:
        for name, rate in rates.items():
            if rate <= 0:
                continue
            colour = colours[name]
            if intervals:
                axes.plot([interval["t"] for interval in intervals],
                          [visits_per_second(interval, name) for interval in intervals],
                          color=colour, linewidth=1.8, label=f"{name} achieved")
            steps, levels = target_steps(shape)
            axes.step(steps, [rate * level for level in levels], where="post", color=colour, linestyle="--",
                      linewidth=1.4, label=f"{name} target", gid=f"throughput-target-{name}")
        if not any(rate > 0 for rate in rates.values()):
            note(axes, "No journey has a target rate")
        axes.set_ylim(bottom=0)
        finish(axes, "Visits per second", shape.duration)

    caption = ("Visits per second against target. Solid: the visits each journey started in the interval "
               "ending at that time, divided by the interval's length. Dashed: the journey's target, its "
               "peak-hour rate times the load profile's multiplier.")
    return figure("throughput", draw, caption)


def failures_figure(result: dict) -> str:
    """Failures per endpoint and journey, for those that had any."""
    failing = [entry for entry in result.get("entries", []) if (entry.get("failures") or 0) > 0]
    failing.sort(key=lambda entry: entry["failures"])  # barh draws bottom up: the most on top

    def draw(axes: Axes) -> None:
        if failing:
            labels = [entry_label(entry) for entry in failing]
            axes.barh(range(len(failing)), [entry["failures"] for entry in failing], height=0.6, color="#c62828")
            axes.set_ylim(-0.75, len(failing) - 0.25)  # one bar must not fill the plot
            axes.set_yticks(range(len(failing)), labels)
            axes.set_xlabel("Failures")
            axes.grid(axis="x", alpha=0.3)
        else:
            note(axes, "No failures")
            axes.set_xticks([])
            axes.set_yticks([])

    height = max(2.0, 1.2 + 0.35 * len(failing))
    caption = "Failures by endpoint and journey over the whole run (only those with at least one)."
    return figure("errors", draw, caption, height)


def errors_table(result: dict) -> str:
    """Locust's error messages: what failed and how often."""
    errors = result.get("errors") or []
    columns = ("method", "name", "error", "occurrences")
    body = table(columns, ([error.get(c) for c in columns] for error in errors)) if errors else "<p>No errors</p>"
    return f'<section id="error-messages">\n<h3>Error messages</h3>\n{body}\n</section>'


def journeys_table(result: dict) -> str:
    """Per journey: its target and users, and how many of its planned visits started."""
    columns = ("journey", "peak-hour visits/s", "users", "planned", "started", "started share", "late", "summary")
    journeys = result.get("journeys", {})
    rows = ([name, number(j.get("rate_per_second"), 3), j.get("users"), j.get("planned"), j.get("started"),
             percent(j.get("started"), j.get("planned")), j.get("late"), j.get("summary")]
            for name, j in journeys.items())
    return section("journeys", "Journeys", table(columns, rows) if journeys else "<p>No journeys</p>")


def endpoints_table(result: dict) -> str:
    """Every endpoint and journey's figures over the whole run."""
    columns = ("kind", "method", "name", "requests", "failures", "failure %", "p50 ms", "p95 ms", "p99 ms",
               "max ms")
    entries = result.get("entries", [])
    rows = ([e.get("kind"), e.get("method"), e.get("name"), e.get("requests"), e.get("failures"),
             percent(e.get("failures"), e.get("requests")), *(number(e.get(m), 0) for m in
                                                              ("p50_ms", "p95_ms", "p99_ms", "max_ms"))]
            for e in entries)
    body = table(columns, rows, fail=[(e.get("failures") or 0) > 0 for e in entries]) if entries else \
        "<p>No requests were sent</p>"
    return section("endpoints", "Endpoints", body)


def volume_table(result: dict) -> str:
    """The volume model's numbers the run was sized from."""
    volume = result.get("volume", {})
    return section("volume", "Volume model", table(("setting", "value"), volume.items()) if volume else
                   "<p>No volume model</p>")


# --- the timeline ---------------------------------------------------------------------------


def timeline(result: dict) -> list[dict]:
    """The timeline's intervals in order, each with its ``length`` in seconds (the first from 0)."""
    intervals, previous = [], 0.0
    for sample in sorted(result.get("timeline") or [], key=lambda s: s.get("t", 0)):
        end = float(sample.get("t", 0))
        intervals.append({"t": end, "length": end - previous, "entries": sample.get("entries") or {},
                          "started": sample.get("started")})
        previous = end
    return intervals


def parse_key(key: str) -> tuple[str, str, str]:
    """``kind|method|name`` as its parts (a name may itself hold ``|``)."""
    kind, method, name = (key.split("|", 2) + ["", ""])[:3]
    return kind, method, name


def endpoint_figures(entries: dict) -> list[dict]:
    """The interval's figures of the endpoints that had requests in it."""
    return [figures for key, figures in entries.items()
            if parse_key(key)[0] == "endpoint" and (figures.get("requests") or 0) > 0]


def endpoint_requests(entries: dict) -> int:
    """Requests to endpoints in the interval."""
    return sum(figures["requests"] for figures in endpoint_figures(entries))


def endpoint_latency(entries: dict, measure: str) -> float:
    """The endpoints' ``measure`` in one interval: p50 weighted by requests, higher percentiles the
    highest (a tail no average can hide); NaN (a gap in the line) when no endpoint had requests."""
    busy = endpoint_figures(entries)
    if not busy:
        return math.nan
    if measure == "p50_ms":
        weighted = sum((f.get(measure) or 0) * f["requests"] for f in busy)
        return weighted / sum(f["requests"] for f in busy)
    return max(f.get(measure) or 0 for f in busy)


def journey_figure(entries: dict, name: str, measure: str) -> float:
    """One journey's ``measure`` in one interval; NaN when it made no visits in it."""
    figures = entries.get(f"journey|{JOURNEY_METHOD}|{name}") or {}
    return float(figures.get(measure) or 0) if (figures.get("requests") or 0) > 0 else math.nan


def visits_per_second(interval: dict, name: str) -> float:
    """The journey's visits in the interval per second of it: 0 when it is not in the interval,
    NaN (a gap in the line) when the interval has no length (two samples at the same time)."""
    if interval["length"] <= 0:
        return math.nan
    if interval.get("started") is not None:  # visits started, as the target counts them
        return (interval["started"].get(name) or 0) / interval["length"]
    figures = interval["entries"].get(f"journey|{JOURNEY_METHOD}|{name}") or {}
    return (figures.get("requests") or 0) / interval["length"]


def run_end(result: dict, intervals: list[dict]) -> float:
    """Seconds from the run's start to its end: the profile's length, or the last interval's if later."""
    return max([float(result.get("profile", {}).get("duration") or 0)] + [interval["t"] for interval in intervals])


def profile_shape(result: dict, intervals: list[dict]) -> Profile:
    """The run's load profile, long enough to cover every interval (multiplier 1 without phases)."""
    profile = result.get("profile", {})
    end = run_end(result, intervals)
    phases = tuple((float(until), float(level)) for until, level in profile.get("phases") or []) or ((end, 1.0),)
    return Profile(str(profile.get("name", "")), end, phases)


def target_steps(shape: Profile) -> tuple[list[float], list[float]]:
    """Where the profile's multiplier changes over the run and its level from there, ending at the
    run's end (for a step line drawn ``where="post"``)."""
    starts = [0.0] + [until for until, _ in shape.phases if 0 < until < shape.duration]
    levels = [shape.multiplier(start) for start in starts]
    return starts + [shape.duration], levels + levels[-1:]


def journey_colours(result: dict) -> dict[str, str]:
    """One colour per journey, the same in every plot: planned journeys first, then any other
    journey of the timeline."""
    names = list(result.get("journeys", {}))
    for interval in result.get("timeline") or []:
        for key in interval.get("entries") or {}:
            kind, _, name = parse_key(key)
            if kind == "journey" and name not in names:
                names.append(name)
    return {name: f"C{index % 10}" for index, name in enumerate(names)}


# --- drawing --------------------------------------------------------------------------------


def figure(figure_id: str, draw: Callable[[Axes], None], caption: str, height: float = 4.2) -> str:
    """A ``<figure>`` holding the SVG that ``draw`` makes on one axes, with its caption."""
    return (f'<figure id="{figure_id}">\n{svg(figure_id, draw, height)}\n'
            f"<figcaption>{escape(caption)}</figcaption>\n</figure>")


def svg(figure_id: str, draw: Callable[[Axes], None], height: float) -> str:
    """The SVG element of one plot, without its XML prolog and doctype."""
    # Glyphs as paths: the page needs no font to show the plots' text (Vietnamese included).
    # No mathtext: a "$" in an endpoint's name is text. Ids salted by the figure so that the
    # page's three inline SVGs never share one, and no date: the same result, the same report.
    settings = {"svg.fonttype": "path", "text.parse_math": False, "svg.hashsalt": figure_id}
    with matplotlib.rc_context(settings):
        # A Figure made directly is not in pyplot's registry: nothing global to close.
        plot = Figure(figsize=(FIGURE_WIDTH_INCHES, height), layout="constrained")
        draw(plot.add_subplot())
        buffer = io.StringIO()
        plot.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):].strip()


def finish(axes: Axes, unit: str, end: float) -> None:
    """Label a time plot's axes, span the whole run (``end`` seconds) so that the time plots line
    up, and put the legend beside the plot, where it covers no line."""
    axes.set_xlabel("Seconds into the run")
    axes.set_ylabel(unit)
    axes.set_xlim(0, end if end > 0 else None)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)


def logarithmic(axes: Axes) -> None:
    """A logarithmic y axis with plain numbers (1, 2, 5 per decade), if there is anything above 0
    to show; a linear axis from 0 otherwise."""
    if not any((numpy.asarray(line.get_ydata(), dtype=float) > 0).any() for line in axes.get_lines()):
        axes.set_ylim(bottom=0)
        return
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())


def note(axes: Axes, text: str) -> None:
    """Say in the middle of the plot why it has nothing to show."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize="large",
              color="#555")


def entry_label(entry: dict) -> str:
    """An entry's name in plots: ``METHOD name``, or ``journey name``."""
    prefix = "journey" if entry.get("kind") == "journey" else entry.get("method") or ""
    return f"{prefix} {entry.get('name', '')}".strip()


# --- HTML -----------------------------------------------------------------------------------


def section(section_id: str, title: str, body: str) -> str:
    """A titled section of the report."""
    return f'<section id="{section_id}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def table(columns: Iterable[str], rows: Iterable[Iterable], fail: list[bool] | None = None) -> str:
    """An HTML table; rows whose ``fail`` flag is set are highlighted."""
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    lines = []
    for index, row in enumerate(rows):
        css = ' class="fail"' if fail and fail[index] else ""
        lines.append(f"<tr{css}>" + "".join(cell(value) for value in row) + "</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>"


class Formatted(str):
    """A figure already written for people (``1,330``, ``98.2 %``): aligned right like a number."""


def cell(value) -> str:
    """One table cell; numbers are aligned right."""
    if isinstance(value, (int, float, Formatted)) and not isinstance(value, bool):
        return f'<td class="number">{escape(number(value))}</td>'
    return f"<td>{escape(MISSING if value is None else value)}</td>"


def escape(value) -> str:
    """``value`` as HTML text: every string from the result goes through here."""
    return html.escape(str(value))


def number(value, digits: int | None = None) -> str:
    """A figure for people: thousands separated, ``digits`` decimals (floats as they are if None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING if value is None else str(value)
    if digits is not None:
        return Formatted(f"{value:,.{digits}f}")
    return Formatted(f"{value:,}" if isinstance(value, int) else f"{value:,.6g}")


def percent(part, whole) -> str:
    """``part`` as a percentage of ``whole``; a dash when there is no whole."""
    if not isinstance(part, (int, float)) or not isinstance(whole, (int, float)) or whole <= 0:
        return MISSING
    return Formatted(f"{100 * part / whole:.1f} %")


def yes_no(flag) -> str:
    """A flag as a word (a dash when unknown)."""
    return MISSING if flag is None else ("yes" if flag else "no")


def run_length(started: str | None, ended: str | None) -> str:
    """How long the run lasted, from its ISO 8601 start and end; a dash if either is unknown."""
    try:
        seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return MISSING
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
