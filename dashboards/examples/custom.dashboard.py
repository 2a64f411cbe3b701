"""An example dashboard in Python (grafanalib): the `*.dashboard.py` convention.

`fleetwatch build` runs this file and takes its module-level `dashboard`; the same finishing
step as the YAML dashboards then adds the `datasource` variable, points every query at
`${datasource}`, sets schemaVersion 39 and a stable uid (here from examples/custom).
Use the React panels (TimeSeries, Stat, ...), not the Angular Graph / SingleStat.
"""

from grafanalib.core import Dashboard, GridPos, Stat, Target, Template, Templating, TimeSeries

SELECTOR = 'instance=~"$instance"'

dashboard = Dashboard(
    title="Custom example",
    description="A small grafanalib dashboard built by fleetwatch.",
    tags=["fleetwatch", "example"],
    refresh="30s",
    templating=Templating(
        list=[
            Template(
                name="instance",
                label="Host",
                query="label_values(up, instance)",
                multi=True,
                includeAll=True,
                allValue=".+",
                refresh=2,
            )
        ]
    ),
    panels=[
        Stat(
            title="Hosts up",
            description="Scrape targets answering.",
            targets=[Target(expr=f"count(up{{{SELECTOR}}} == 1) or vector(0)", refId="A")],
            format="none",
            reduceCalc="lastNotNull",
            gridPos=GridPos(h=6, w=6, x=0, y=0),
        ),
        TimeSeries(
            title="CPU busy",
            description="Share of all cores not idle, per host.",
            targets=[
                Target(
                    expr=(
                        "1 - avg by (instance) (rate(node_cpu_seconds_total"
                        f'{{mode="idle", {SELECTOR}}}[$__rate_interval]))'
                    ),
                    legendFormat="{{instance}}",
                    refId="A",
                )
            ],
            unit="percentunit",
            gridPos=GridPos(h=6, w=18, x=6, y=0),
        ),
    ],
).auto_panel_ids()
