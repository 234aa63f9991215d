#!/usr/bin/python3
"""Renders the audit report views (reports.*, sql/reports/*.sql) for a range
of UTC days as one CSV per view and one self-contained HTML page.

    sql/reports/report.py [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out DIR]

--from and --to are UTC days, both included (default: the 30 days ending
today); --out (default var/report) receives <view>.csv for each view and
report.html: a table and an inline SVG chart per view, with no script and no
external asset, so the file can be mailed or archived as it is.

The database is reached by running `psql --csv` with the libpq environment
(PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSFILE, PGSERVICE ...) as a role
that may read the reports schema (a member of audit_reader, or the owner).
The range travels as psql variables, quoted by psql; nothing is pasted into
SQL. Each view is read in a read-only session of its own. Exit status: 0 on
success, 1 when psql fails, 2 on bad arguments.
"""

import argparse
import csv
import datetime
import html
import io
import math
import os
import subprocess
import sys
from pathlib import Path

# Rows a view's HTML table shows; the CSV always holds all of them.
TABLE_ROWS_MAX = 100
PALETTE = ("#2f6db5", "#e0892b", "#3a9a5b", "#c23b3b", "#7d5bb5", "#8c8c8c")


class View:
    """One report view: its name (the CSV's too), a title and a sentence for
    the page, the order of its rows, and the chart: `bars` stacks the daily
    sums of `series` (column, label) per day; `rates` draws one line per
    (numerator, label) as a percentage of the daily sum of `denominator`."""

    def __init__(self, name, title, about, order, chart, series, denominator=None):
        self.name = name
        self.title = title
        self.about = about
        self.order = order
        self.chart = chart
        self.series = series
        self.denominator = denominator


VIEWS = (
    View(
        "secret_access_daily",
        "Secret access",
        "Secret Store payload reads, sets and deletes per app, account, mode and actor "
        "(key id or dashboard user); rejected counts refused attempts (status 400 or more).",
        "day, app_id, account_id, livemode, actor",
        "bars",
        (("reads", "reads"), ("sets", "sets"), ("deletes", "deletes"), ("rejected", "rejected")),
    ),
    View(
        "auth_failures_daily",
        "Authentication failures",
        "Failed authentications per key prefix (the public start of the key presented; "
        "empty when none was) and client address.",
        "day, failures DESC, key_prefix, client_addr",
        "bars",
        (("unauthenticated", "401"), ("forbidden", "403")),
    ),
    View(
        "identity_outcomes_daily",
        "Identity verification outcomes",
        "Verification sessions per account and mode by outcome, with the error code of "
        "refusals and of sessions that require input again.",
        "day, account_id, livemode, error_code",
        "bars",
        (
            ("created", "created"),
            ("verified", "verified"),
            ("requires_input", "requires input"),
            ("canceled", "canceled"),
            ("redacted", "redacted"),
            ("rejected", "rejected"),
        ),
    ),
    View(
        "app_installs_daily",
        "App installs and uninstalls",
        "Which accounts installed and uninstalled which app, per mode.",
        "day, app_id, account_id, livemode",
        "bars",
        (("installs", "installs"), ("uninstalls", "uninstalls"), ("rejected", "rejected")),
    ),
    View(
        "error_rates_daily",
        "Error rates",
        "Audited requests per service and route, and the share answered with an error "
        "(status 400 or more) or a server error (500 or more). The chart shows the daily "
        "rates over all routes.",
        "day, service, route",
        "rates",
        (("errors", "errors (>= 400)"), ("server_errors", "server errors (>= 500)")),
        denominator="requests",
    ),
)


class ReportError(Exception):
    """psql failed, or answered something this script cannot read."""


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def parse_day(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="report.py",
        description="Render the audit report views for a range of UTC days as CSV and HTML.",
    )
    parser.add_argument("--from", dest="start", type=parse_day, help="first UTC day (default: 29 days before --to)")
    parser.add_argument("--to", dest="end", type=parse_day, help="last UTC day, included (default: today)")
    parser.add_argument("--out", type=Path, default=Path("var/report"), help="output directory (default: var/report)")
    args = parser.parse_args(argv)
    if args.end is None:
        args.end = utc_today()
    if args.start is None:
        args.start = args.end - datetime.timedelta(days=29)
    if args.start > args.end:
        parser.error(f"--from {args.start} is after --to {args.end}")
    return args


def query_view(view, start, end):
    """The view's rows for [start, end] as psql's CSV text (header first)."""
    sql = (
        f"SELECT * FROM reports.{view.name}\n"
        " WHERE day >= :'range_from'::date AND day <= :'range_to'::date\n"
        f" ORDER BY {view.order};\n"
    )
    env = dict(os.environ)
    env["PGOPTIONS"] = " ".join(filter(None, (env.get("PGOPTIONS"), "-c default_transaction_read_only=on")))
    env.setdefault("PGAPPNAME", "report.py")
    cmd = ["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1",
           "-v", f"range_from={start.isoformat()}", "-v", f"range_to={end.isoformat()}", "-f", "-"]
    try:
        done = subprocess.run(cmd, input=sql, env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReportError(f"psql: {e}") from e
    if done.returncode != 0:
        raise ReportError(f"reports.{view.name}: psql exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise ReportError("psql printed no CSV header")
    return rows[0], rows[1:]


def number(text):
    """A count or rate cell as a number (empty, i.e. NULL, as 0)."""
    return float(text) if text else 0.0


def days_of(start, end):
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def daily_sums(header, rows, columns, days):
    """{column: [sum of the column over the rows of each day]}."""
    index = {name: i for i, name in enumerate(header)}
    missing = [c for c in ("day", *columns) if c not in index]
    if missing:
        raise ReportError(f"the view lacks the column(s) {', '.join(missing)}")
    slot = {day.isoformat(): i for i, day in enumerate(days)}
    sums = {c: [0.0] * len(days) for c in columns}
    for row in rows:
        i = slot.get(row[index["day"]])
        if i is None:
            continue
        for c in columns:
            sums[c][i] += number(row[index[c]])
    return sums


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten that is >= value (>= 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def axis_max(peak, ticks=4, cap=None):
    """The top of a y axis whose `ticks` steps are whole round numbers (1, 2
    or 5 times a power of ten) and reach peak; at most cap."""
    top = ticks * nice_ceiling(peak / ticks)
    return min(top, cap) if cap is not None else top


def fmt(value):
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def svg_chart(view, days, lines, y_max, percent):
    """An SVG of `lines` ([(label, [value per day])]) over `days`: stacked bars
    or, when percent, lines on a 0..y_max percentage axis (a None value, a
    day without data, breaks the line)."""
    width, height = 880, 280
    left, right, top, bottom = 64, 16, 40, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(days)
    step = plot_w / n
    esc = html.escape
    out = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(view.title)} per day">'
    ]
    # Grid and y axis labels.
    for k in range(5):
        value = y_max * k / 4
        y = top + plot_h - plot_h * k / 4
        label = f"{value:g}%" if percent else f"{round(value):,}"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>')
    # X axis labels: about a dozen at most.
    every = max(1, math.ceil(n / 12))
    for i in range(0, n, every):
        x = left + step * (i + 0.5)
        out.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{esc(days[i].strftime("%m-%d"))}</text>'
        )
    scale = plot_h / y_max
    if percent:
        for s, (label, values) in enumerate(lines):
            color = PALETTE[s % len(PALETTE)]
            runs = [[]]  # consecutive days with data
            for i, v in enumerate(values):
                if v is not None:
                    runs[-1].append((left + step * (i + 0.5), top + plot_h - v * scale, i, v))
                elif runs[-1]:
                    runs.append([])
            for run in filter(None, runs):
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in run)
                out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
                for x, y, i, v in run:
                    out.append(
                        f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}">'
                        f'<title>{esc(f"{days[i]}: {label} {v:.2f}%")}</title></circle>'
                    )
    else:
        bar_w = max(step * 0.8, 1.0)
        for i, day in enumerate(days):
            base = 0.0
            for s, (label, values) in enumerate(lines):
                v = values[i]
                if v <= 0:
                    continue
                y = top + plot_h - (base + v) * scale
                out.append(
                    f'<rect class="mark" x="{left + step * i + (step - bar_w) / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                    f'height="{v * scale:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                    f"<title>{esc(f'{day}: {label} {fmt(v)}')}</title></rect>"
                )
                base += v
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" class="axis"/>')
    if not any(v is not None if percent else v > 0 for _, values in lines for v in values):
        out.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" class="nodata">'
            "no data in this range</text>"
        )
    # Legend.
    x = left
    for s, (label, _) in enumerate(lines):
        out.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 16}" y="22">{esc(label)}</text>')
        x += 28 + 7 * len(label)
    out.append("</svg>")
    return "\n".join(out)


def chart(view, header, rows, days):
    if view.chart == "rates":
        sums = daily_sums(header, rows, [view.denominator, *(c for c, _ in view.series)], days)
        total = sums[view.denominator]
        lines = [
            (label, [100.0 * v / t if t else None for v, t in zip(sums[column], total)])
            for column, label in view.series
        ]
        peak = max((v for _, values in lines for v in values if v is not None), default=0.0)
        return svg_chart(view, days, lines, axis_max(peak, cap=100.0), percent=True)
    sums = daily_sums(header, rows, [c for c, _ in view.series], days)
    lines = [(label, sums[column]) for column, label in view.series]
    peak = max((sum(values[i] for _, values in lines) for i in range(len(days))), default=0.0)
    return svg_chart(view, days, lines, axis_max(peak), percent=False)


def table(header, rows):
    esc = html.escape
    if not rows:
        return '<p class="empty">No rows in this range.</p>'
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for row in rows[:TABLE_ROWS_MAX]:
        out.append("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>")
    out.append("</tbody></table>")
    if len(rows) > TABLE_ROWS_MAX:
        out.append(f'<p class="note">The first {TABLE_ROWS_MAX} of {len(rows):,} rows; the CSV holds all of them.</p>')
    return "\n".join(out)


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.range, .note, .empty { color: #555; }
svg { display: block; margin: 0.8em 0; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
svg .grid { stroke: #e4e4e4; }
svg .axis { stroke: #888; }
svg .nodata { font-size: 14px; fill: #999; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font-size: 0.95em; }
"""


def render(start, end, results):
    """The page for [(view, header, rows)]."""
    esc = html.escape
    days = days_of(start, end)
    title = f"Audit report {start} to {end}"
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="range">UTC days {esc(str(start))} to {esc(str(end))}, both included '
        f"({len(days)} days); generated {esc(generated)} from the views in the reports schema.</p>",
        "<ul>",
    ]
    for view, _, rows in results:
        out.append(f'<li><a href="#{esc(view.name)}">{esc(view.title)}</a>: {len(rows):,} rows</li>')
    out.append("</ul>")
    for view, header, rows in results:
        out.append(f'<section id="{esc(view.name)}">')
        out.append(f"<h2>{esc(view.title)} <small><code>reports.{esc(view.name)}</code></small></h2>")
        out.append(f"<p>{esc(view.about)} Data: <code>{esc(view.name)}.csv</code>.</p>")
        out.append(chart(view, header, rows, days))
        out.append(table(header, rows))
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def main(argv):
    args = parse_args(argv)
    results = []
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for view in VIEWS:
            text = query_view(view, args.start, args.end)
            header, rows = read_csv(text)
            (args.out / f"{view.name}.csv").write_text(text, encoding="utf-8", newline="")
            results.append((view, header, rows))
        page = render(args.start, args.end, results)
        (args.out / "report.html").write_text(page, encoding="utf-8")
    except (ReportError, OSError) as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    print(f"report.py: {args.start} to {args.end}: {args.out / 'report.html'} and {len(results)} CSV files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
