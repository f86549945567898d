"""The `cockpit` command: run (default), demo, sim, check, config, journal."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit import __version__, recording_cli
from cockpit.argtypes import whole_number
from cockpit.reports import cli as report_cli
from cockpit.serve import cli as serve_cli

if TYPE_CHECKING:
    from cockpit.config import Settings

SCENARIOS = ("healthy", "incident", "large")


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Flags accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--context",
        default=default,
        metavar="NAME",
        help="kubeconfig context (default: the current context)",
    )
    parser.add_argument(
        "--namespace",
        "-n",
        default=default,
        metavar="NS",
        help="namespace to watch (default: excel-unified)",
    )
    parser.add_argument(
        "--config",
        default=default,
        metavar="PATH",
        type=Path,
        help="settings file (default: $COCKPIT_CONFIG or ~/.config/cockpit/config.toml)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=default,
        help="offer no mutating action at all (keys, palette and code path)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        default=default,
        help="run every action as a server-side dry run (dryRun=All)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="A live operations cockpit for the Excel Unified service: pods, top, error "
        "logs, events, PostgreSQL, Redis and the host on one screen, with the runbook's "
        "remedies as confirmed, previewed and journaled actions.",
        epilog="Without a subcommand, `cockpit` runs against the current kubeconfig context. "
        "`cockpit demo` needs nothing else installed.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the cockpit against a cluster (the default)")
    _common(run, suppress=True)

    demo = sub.add_parser("demo", help="run the cockpit against the built-in simulated cluster")
    _common(demo, suppress=True)
    demo.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="incident",
        help="what the simulated cluster shows (default: incident)",
    )
    demo.add_argument(
        "--size",
        type=int,
        default=5000,
        metavar="N",
        help="number of pods in the large scenario (default: 5000)",
    )

    sim = sub.add_parser("sim", help="run the simulated cluster alone, in the foreground")
    sim.add_argument("--scenario", choices=SCENARIOS, default="incident")
    sim.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    sim.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write its kubeconfig (default: a temporary file)",
    )
    sim.add_argument(
        "--size", type=int, default=5000, metavar="N", help="number of pods in the large scenario"
    )
    sim.add_argument(
        "--fast", action="store_true", help="test pace: every transition in well under a second"
    )
    sim.add_argument(
        "--prometheus-rules",
        action="append",
        default=[],
        metavar="PATH",
        help="a rules file for the prometheus.yml it writes (repeatable; default: the "
        "runbook's rules in deploy/prometheus/ when run from a checkout)",
    )

    recording_cli.add_parsers(sub, _common)

    check = sub.add_parser(
        "check",
        help="poll every source once, print the status, exit "
        "0 (ok), 1 (warn) or 2 (crit or unreachable)",
    )
    _common(check, suppress=True)
    check.add_argument("--json", action="store_true", help="machine-readable output")

    config = sub.add_parser("config", help="print the effective settings, secrets masked")
    _common(config, suppress=True)
    config.add_argument("--json", action="store_true", help="JSON instead of TOML-like text")

    journal = sub.add_parser("journal", help="show the action journal")
    _common(journal, suppress=True)
    shown = journal.add_mutually_exclusive_group()
    shown.add_argument(
        "--tail",
        type=whole_number(0),
        default=20,
        metavar="N",
        help="the last N entries (default: 20)",
    )
    shown.add_argument("--all", action="store_true", help="every entry")
    journal.add_argument("--json", action="store_true", help="raw JSON lines")
    _backup_parsers(sub)
    _common(report_cli.add_parser(sub), suppress=True)
    serve_cli.add_parser(sub, _common, SCENARIOS)
    return parser


def _backup_parsers(sub: Any) -> None:
    backup = sub.add_parser("backup", help="dump now, list or verify the dumps in S3")
    _common(backup, suppress=True)
    what = backup.add_subparsers(dest="backup_command", metavar="dump|list|verify|rehearse")
    what.required = True
    dump = what.add_parser("dump", help="pg_dump the database, gzip, upload to S3, verify")
    _common(dump, suppress=True)
    dump.add_argument("--database", metavar="DB", help="default: postgres.database")
    dump.add_argument("--key", default="", help="object key (default: backup_<UTC time>.sql.gz)")
    _common(what.add_parser("list", help="the dumps in S3, newest first"), suppress=True)
    verify = what.add_parser("verify", help="read a dump end to end (gzip, SHA-256)")
    _common(verify, suppress=True)
    verify.add_argument("key")
    rehearse = what.add_parser(
        "rehearse",
        help="load a dump into a scratch database, compare row counts with live, drop it",
    )
    _common(rehearse, suppress=True)
    rehearse.add_argument("key")
    rehearse.add_argument("--database", metavar="DB", help="the live database to compare with")
    restore = sub.add_parser(
        "restore", help="restore a verified dump from S3 into a database (psql, one transaction)"
    )
    _common(restore, suppress=True)
    restore.add_argument("key", help="the dump's object key (see `cockpit backup list`)")
    restore.add_argument("--database", required=True, metavar="DB", help="the target database")
    restore.add_argument(
        "--confirm", required=True, metavar="DB", help="the database name again, as typed"
    )
    restore.add_argument(
        "--guided",
        action="store_true",
        help="the runbook's whole procedure: stop rails and sidekiq, restore by loading into "
        "a new database and swapping it in (the old one kept), start them again and wait "
        "for health; KEY may be pod:/backups/FILE for a dump in the backup pod",
    )
    restore.add_argument(
        "--rehearse", action="store_true", help="with --guided: rehearse into a scratch db first"
    )


def _backup_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from actions.backup import headless

    if args.command == "restore" and args.guided:
        return headless.restore_guided(
            settings,
            args.key,
            args.database,
            args.confirm,
            rehearse=args.rehearse,
            context=getattr(args, "context", None),
        )
    if args.command == "restore":
        return headless.restore(
            settings, args.key, args.database, args.confirm, context=getattr(args, "context", None)
        )
    if args.backup_command == "dump":
        return headless.backup_dump(
            settings, database=args.database, key=args.key, context=getattr(args, "context", None)
        )
    if args.backup_command == "rehearse":
        return headless.backup_rehearse(
            settings, args.key, database=args.database, context=getattr(args, "context", None)
        )
    if args.backup_command == "verify":
        return headless.backup_verify(settings, args.key)
    return headless.backup_list(settings)


def _settings(args: argparse.Namespace) -> Settings:
    flags: dict[str, Any] = {}
    if getattr(args, "read_only", None):
        flags["read_only"] = True
    if getattr(args, "dry_run", None):
        flags["dry_run"] = True
    kube: dict[str, Any] = {}
    if getattr(args, "context", None):
        kube["context"] = args.context
    if getattr(args, "namespace", None):
        kube["namespace"] = args.namespace
    if kube:
        flags["kube"] = kube
    from cockpit.config import load_settings

    return load_settings(getattr(args, "config", None), **flags)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(recording_cli.glue_moments(sys.argv[1:] if argv is None else argv))
    if (args.command or "run") == "run":
        from cockpit import gctuning
        from cockpit.sources.kube import early

        # No cyclic collection until the first screen is drawn (gctuning.settle), from
        # here: the settings' imports make no garbage worth the collections' time either.
        gctuning.hold_for_startup()
        # Two malloc arenas, set before the first thread (early.begin starts one): a
        # thread keeps the arena it first used (see cockpit/gctuning.py).
        gctuning.cap_malloc_arenas()
        # The pods' Table, asked before the settings and the UI are imported (early.py).
        early.begin(args.context, args.namespace)
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # `cockpit journal | head`: the reader went away.  Point stdout at /dev/null so
        # that the interpreter's final flush does not raise again, and exit as `yes | head`.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command or "run"
    if command == "run" and _first_screen_first(args):
        try:
            # No pydantic before its first screen: the app reads the settings after it.
            return cmd_run(None, args.context, args.namespace, lambda: _settings(args))
        except KeyboardInterrupt:
            return 130
    from cockpit.config import ConfigError

    try:
        if command == "sim":
            return cmd_sim(args)
        settings = _settings(args)
        if command == "config":
            return cmd_config(settings, as_json=args.json)
        if command == "journal":
            from cockpit.audit import print_journal

            tail = None if args.all else args.tail
            return print_journal(settings.effective_journal_path(), tail, args.json)
        if command == "check":
            from cockpit.check import run_check

            return run_check(settings, args.context, args.namespace, as_json=args.json)
        if command == "demo":
            return cmd_demo(settings, args.scenario, args.size)
        if command == "report":
            return report_cli.dispatch(args, settings)
        if command == "serve":
            return serve_cli.dispatch(args, settings)
        if command in recording_cli.COMMANDS:
            return recording_cli.dispatch(command, args, settings)
        if command in ("backup", "restore"):
            return _backup_dispatch(args, settings)
        return cmd_run(settings, args.context, args.namespace)
    except ConfigError as exc:
        print(f"cockpit: configuration error\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_config(settings: Settings, as_json: bool) -> int:
    from cockpit.config import masked

    data = masked(settings.model_dump(mode="json"))
    data["journal_path"] = str(settings.effective_journal_path())
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    print(_toml_like(data))
    return 0


def _toml_like(data: dict, prefix: str = "") -> str:
    """Readable TOML-ish rendering of the settings (for people, not for parsing back)."""
    scalars, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            scalars.append(f"{key} = {json.dumps(value)}")
    out = []
    if scalars:
        out.append("\n".join(scalars))
    for key, value in tables:
        name = f"{prefix}{key}"
        body = _toml_like(value, prefix=f"{name}.")
        out.append(f"[{name}]\n{body}" if body else f"[{name}]")
    return "\n\n".join(out)


def cmd_run(
    settings: Settings | None,
    context: str | None,
    namespace: str | None,
    load_settings: Callable[[], Settings] | None = None,
) -> int:
    """The cockpit against a cluster.  `settings` None: the app reads them with
    `load_settings` after its first paint, and exits 2 if they are refused."""
    from cockpit import gctuning
    from cockpit.marks import mark
    from cockpit.sources.kube import prefetch

    if settings is not None:
        mark("settings_loaded")
    # See cockpit/gctuning.py: free pages handed back every few seconds (the arenas are
    # capped and collections held since main(), until the first screen is drawn).
    gctuning.start_trimming()
    # The API server works on the first screen's pods while the UI is imported.
    prefetch.start(settings.kube if settings is not None else None, context, namespace)
    from cockpit.app import CockpitApp, Launch

    mark("app_imported")

    app = CockpitApp(Launch(settings=settings, context=context, namespace=namespace), load_settings)
    app.run()
    if app.config_error is not None:
        print(f"cockpit: configuration error\n{app.config_error}", file=sys.stderr)
        return 2
    return exit_status(app)


def _first_screen_first(args: argparse.Namespace) -> bool:
    """The first screen may come before the settings are read (cockpit/first_screen.py)."""
    from cockpit.first_screen import settings_keep_target
    from cockpit.sources.kube import early

    return early.pending_plan() is not None and settings_keep_target(getattr(args, "config", None))


def exit_status(app: Any) -> int:
    """0 after a quit; non-zero after a crash, which Textual reports by a return code
    (an unhandled exception otherwise ends `App.run()` as normally as `q` does)."""
    return app.return_code or 0


def cmd_demo(settings: Settings, scenario: str, size: int) -> int:
    from cockpit.app import CockpitApp, Launch
    from cockpit.demo.environment import CONTEXT, demo_environment

    with (
        tempfile.TemporaryDirectory(prefix="cockpit-demo-") as tmp,
        demo_environment(settings, scenario, size, Path(tmp)) as (demo_settings, note),
    ):
        app = CockpitApp(Launch(settings=demo_settings, context=CONTEXT, note=note))
        app.run()
    return exit_status(app)


# The runbook's alert rules, as shipped in the source tree (deploy/prometheus/).
SHIPPED_RULES = Path(__file__).resolve().parent.parent / "deploy/prometheus/excel-unified.rules.yml"


def cmd_sim(args: argparse.Namespace) -> int:
    from cockpit.sim.pace import Pace
    from cockpit.sim.runner import run_foreground

    pace = Pace.fast() if args.fast else Pace.demo()
    rules = [str(Path(p).resolve()) for p in args.prometheus_rules]
    if not rules and SHIPPED_RULES.is_file():  # the runbook's alerts, from a checkout
        rules = [str(SHIPPED_RULES)]
    return run_foreground(
        args.scenario, args.port, args.kubeconfig, pace, large_size=args.size, rule_files=rules
    )
