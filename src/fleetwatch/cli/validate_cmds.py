"""``fleetwatch validate``: lint and prove build output (or any dashboards / rules) for CI."""

from __future__ import annotations

import sys
from pathlib import Path

import click

FORMATS = ("text", "json", "junit", "github")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text: file:line lines; json; junit: JUnit XML; github: Actions annotations.",
)  # fmt: skip
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of stdout.",
)  # fmt: skip
@click.option(
    "--exceptions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accepted findings, each with a reason [default: ./.fleetwatch-exceptions.yaml if any].",
)  # fmt: skip
@click.option(
    "--promtool", "promtool_path", metavar="PATH",
    help="The promtool binary [default: $FLEETWATCH_PROMTOOL, else PATH, else Docker].",
)  # fmt: skip
@click.option(
    "--amtool", "amtool_path", metavar="PATH",
    help="The amtool binary [default: $FLEETWATCH_AMTOOL, else PATH, else Docker].",
)  # fmt: skip
@click.option(
    "--profile", type=click.Choice(["auto", "default", "strict"]), default="auto",  # PROFILES
    show_default=True,
    help="House-style rules (--list-rules: style): strict = errors, default = info; auto = "
    "strict on files `fleetwatch build` wrote, default on every other file.",
)  # fmt: skip
@click.option(
    "--disable", "disabled", multiple=True, metavar="RULE", help="Switch RULE off (repeatable).",
)  # fmt: skip
@click.option(
    "--severity", "levels", multiple=True, metavar="RULE=LEVEL",
    help="Report RULE as error, warning, info or off (repeatable).",
)  # fmt: skip
@click.option(
    "--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False,
    path_type=Path), metavar="FILE",
    help="Your metrics: a catalog YAML (metrics: [{name, type, help}]) or a saved /metrics text.",
)  # fmt: skip
@click.option(
    "--prometheus", "prometheus_url", metavar="URL",
    help="Take metric names and types from a live Prometheus' API as well.",
)  # fmt: skip
@click.option(
    "--list-rules", is_flag=True, help="Print every rule id a finding can have, and exit.",
)  # fmt: skip
def validate(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    exceptions: Path | None,
    promtool_path: str | None,
    amtool_path: str | None,
    profile: str,
    disabled: tuple[str, ...],
    levels: tuple[str, ...],
    catalogs: tuple[Path, ...],
    prometheus_url: str | None,
    list_rules: bool,
) -> None:
    """Validate PATH... (default build/): dashboards, rule files, prometheus.yml,
    alertmanager.yml.

    Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad options, 5 promtool or
    amtool not available (one line naming it and how to get it).
    """
    from fleetwatch.errors import FleetwatchError
    from fleetwatch.validate import (
        DEFAULT_EXCEPTIONS_FILE,
        Amtool,
        Promtool,
        all_rules,
        render,
        run,
    )
    from fleetwatch.validate.policy import Policy, parse_level

    if list_rules:
        _print_rules()
        return
    chosen: dict[str, str] = {}
    known = all_rules()
    for rule in disabled:
        chosen[rule] = "off"
    for text in levels:
        try:
            rule, level = parse_level(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--severity") from None
        chosen[rule] = level
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise click.BadParameter(
            f"unknown rule {unknown[0]!r} (fleetwatch validate --list-rules)", param_hint="RULE"
        )
    policy = Policy(profile, chosen)  # type: ignore[arg-type]
    from fleetwatch.layout import DEFAULT_BUILD_DIR

    targets = list(paths) or [Path(DEFAULT_BUILD_DIR)]
    missing = [t for t in targets if not t.exists()]
    if missing:
        raise click.BadParameter(f"{missing[0]} does not exist", param_hint="PATH")
    if exceptions is None and Path(DEFAULT_EXCEPTIONS_FILE).is_file():
        exceptions = Path(DEFAULT_EXCEPTIONS_FILE)
    try:
        tool = Promtool.find(promtool_path) if promtool_path else None
        am = Amtool.find(amtool_path) if amtool_path else None
        result = run(
            targets, exceptions=exceptions, promtool=tool, amtool=am, catalogs=list(catalogs),
            prometheus_url=prometheus_url, policy=policy,
        )  # fmt: skip
    except FleetwatchError as exc:
        click.echo(f"fleetwatch: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    report = render(result.findings, fmt, result.checked)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
        if fmt != "text":
            from fleetwatch.validate.report import summary

            click.echo(summary(result.findings, result.checked), err=True)
    else:
        click.echo(report, nl=False)
    sys.exit(1 if result.errors else 0)


def _print_rules() -> None:
    from fleetwatch.validate import all_rules

    rules = all_rules()
    width = max(map(len, rules))
    for rule, meaning in rules.items():
        level = "style" if meaning.style else meaning.severity
        click.echo(f"{rule:<{width}}  {level:<7}  {meaning.summary}")
