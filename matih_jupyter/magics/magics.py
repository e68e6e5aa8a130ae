"""The ``%matih_*`` magics: thin adapters that parse a line, call the core, render a result.

Every user mistake reaches the user as a `UsageError` (one line, no traceback) through
`_errors.user_errors`; everything else the magics need is in `session.MagicSession`.
"""

from __future__ import annotations

import ast
import keyword
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split

from ._errors import describe_error, maps_user_errors, usage_error, user_errors
from ._parse import parse_list, parse_tags, split_assignment, split_log_line
from .session import MagicSession, OpenRun, get_session

RUN_ACTIONS = ("start", "end", "status")
DEFAULT_COMPARE_TOP = 50
#: Seconds the end of a cell may wait for buffered data of open runs. When the backend is
#: down the data stays queued (and is retried) instead of freezing the notebook.
POST_CELL_FLUSH_TIMEOUT = 10.0


def parse_argstring(magic: Any, line: str) -> Any:
    """Parse a magic's line with its `magic_arguments` parser, letting options and words
    mix in any order (``start --nested exp`` as well as ``start exp --nested``)."""
    try:
        # Shell-like quoting: --filter "metrics.loss < 0.5" arrives without the quotes.
        argv = arg_split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"Could not read the arguments: {exc}.\nClose every quote.") from None
    return magic.parser.parse_intermixed_args(argv)


def _status(value: str) -> str:
    """``--status``: a state a run can end in (the core's rule, `end_status`)."""
    from ..core import END_STATUSES, end_status
    from ..core.errors import InvalidInputError

    try:
        return end_status(value)
    except InvalidInputError as exc:
        # Raised as UsageError here: argparse would turn the core's ValueError into its
        # own "invalid value" message.
        choices = f"{', '.join(END_STATUSES[:-1])} or {END_STATUSES[-1]}"
        raise usage_error(exc, hint=f"Use --status {choices}.") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise UsageError(f"{value!r} is not a positive whole number.\nFor example --top 10.")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise UsageError(f"{value!r} is not a number of seconds.\nFor example --stale-after 60.")
    return number


def _describe(opened: OpenRun) -> str:
    run = opened.run
    return f"run '{run.run_name}' ({run.run_id}) in {run.tenant_id}/{opened.experiment}"


def _widgets(name: str, feature: str) -> Any:
    """A widget class from `matih_jupyter.widgets`, imported only when asked for."""
    try:
        import matih_jupyter.widgets as widgets

        return getattr(widgets, name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(
            f"{feature} needs the matih_jupyter.widgets module, which could not be loaded "
            f"({type(exc).__name__}: {exc}).\n"
            "Install ipywidgets and matplotlib (pip install 'matih-jupyter'), then restart "
            "the kernel."
        ) from None


@magics_class
class MatihMagics(Magics):
    """Tenant-scoped experiment tracking and model promotion from notebook cells."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session: MagicSession = get_session(shell)

    # -- events --------------------------------------------------------------------------

    def post_run_cell(self, result: Any = None) -> None:
        """After every cell: write what open runs buffered, so the store is current even
        if the kernel dies before the next cell."""
        for opened, exc in self.session.flush_all(timeout=POST_CELL_FLUSH_TIMEOUT):
            print(
                f"matih: could not write what {_describe(opened)} logged: {describe_error(exc)}",
                file=sys.stderr,
            )

    # -- %matih_tenant ------------------------------------------------------------------

    @line_magic
    @magic_arguments()
    @argument(
        "tenant",
        nargs="?",
        help="Tenant id to track for (lowercase letters, digits and '-', 2-63 characters). "
        "Omit it to show the current tenant, user, job and store.",
    )
    @argument("--user", help="User id recorded on runs (default: MATIH_USER_ID, else the OS user).")
    @argument("--job", help="Platform job id recorded on runs (default: MATIH_JOB_ID).")
    @maps_user_errors
    def matih_tenant(self, line: str) -> None:
        """Show or set who this notebook tracks for.

        With no argument, prints the tenant, the user, the job and the MLflow store in use.
        The tenant defaults to MATIH_TENANT_ID and the user to MATIH_USER_ID. Switching is
        refused while a run is open (end it with %matih_run end first).

        Examples::

            %matih_tenant
            %matih_tenant acme-corp --user alice@acme.com --job job-123
        """
        args = parse_argstring(self.matih_tenant, line)
        session = self.session
        if args.tenant is None and args.user is None and args.job is None:
            print(f"tenant: {session.tenant or '(not set: use %matih_tenant TENANT)'}")
            print(f"user:   {session.user}")
            print(f"job:    {session.job_id or '-'}")
            print(f"store:  {session.tracker.store.describe()}")
            return
        session.set_identity(args.tenant, args.user, args.job)
        print(
            f"Tracking for tenant '{session.tenant}' as user '{session.user}'"
            + (f", job '{session.job_id}'" if session.job_id else "")
            + f" ({session.tracker.store.describe()})."
        )

    # -- %matih_experiment --------------------------------------------------------------

    @line_magic
    @magic_arguments()
    @argument(
        "name",
        nargs="?",
        help="Experiment name (created for the tenant on first use). Omit it to show the "
        "current default.",
    )
    @maps_user_errors
    def matih_experiment(self, line: str) -> None:
        """Set the default experiment of this notebook.

        Runs and listings that name no experiment use it. The experiment belongs to the
        current tenant (stored in MLflow as '<tenant>/<name>') and is created if missing.

        Examples::

            %matih_experiment churn-model
            %matih_experiment
        """
        args = parse_argstring(self.matih_experiment, line)
        session = self.session
        if args.name is None:
            if session.experiment:
                print(f"Default experiment: {session.require_tenant()}/{session.experiment}")
            else:
                print("No default experiment. Set one with %matih_experiment NAME.")
            return
        tenant = session.require_tenant()
        name = session.experiment_for(args.name)
        exp_id = session.tracker.get_or_create_experiment(name, tenant)
        session.experiment = name
        print(f"Default experiment: {tenant}/{name} (id {exp_id}).")

    # -- %matih_run / %%matih_run -------------------------------------------------------

    @line_cell_magic
    @magic_arguments()
    @argument(
        "words",
        nargs="*",
        metavar="ACTION_OR_EXPERIMENT",
        help="Line form: start [EXPERIMENT] | end | status. Cell form: [EXPERIMENT]. The "
        "experiment defaults to the one set with %%matih_experiment.",
    )
    @argument("--name", help="Run name (default: generated).")
    @argument(
        "--tag",
        action="append",
        metavar="KEY=VALUE",
        help="Tag the run; repeat for several tags. Keys starting with 'matih.' are reserved.",
    )
    @argument("--nested", action="store_true", help="Make the run a child of the run already open.")
    @argument("--live", action="store_true", help="Show live metric curves while the run logs.")
    @argument(
        "--autolog",
        action="store_true",
        help="Turn on MLflow autologging (scikit-learn and the other flavours MLflow "
        "supports) for this run; each fit becomes a child run in the same experiment.",
    )
    @argument(
        "--no-models",
        action="store_true",
        help="With --autolog: do not save model files (much faster).",
    )
    @argument(
        "--as",
        dest="var",
        metavar="VAR",
        help="Variable the run is bound to in the notebook (default: run).",
    )
    @argument(
        "--status",
        type=_status,
        help="With 'end': FINISHED (default), FAILED or KILLED.",
    )
    def matih_run(self, line: str, cell: str | None = None) -> Any:
        """Track a cell, or a span of cells, as one MLflow run of the tenant.

        Cell form (the run lasts exactly one cell)::

            %%matih_run [EXPERIMENT] [--name NAME] [--tag k=v ...] [--live] [--as VAR]
            for epoch in range(10):
                run.log_metric("loss", train(), step=epoch)

        The run is bound to ``run`` (or VAR) during the cell and ends with it: FINISHED
        when the cell completes, FAILED when it raises (the exception type and message are
        tagged; the error shows as usual), KILLED when interrupted. Everything logged is
        written before the cell returns. The cell's source is stored as the artifact
        ``cell.py`` and the notebook path is tagged when known; running the cell again
        makes a new run.

        Line form (the run stays open across cells)::

            %matih_run start [EXPERIMENT] [--name NAME] [--tag k=v ...] [--nested] [--live]
            %matih_run status
            %matih_run end [--status FINISHED|FAILED|KILLED]

        Buffered data of open runs is written at the end of every cell. A run whose
        kernel dies is listed by %matih_runs --orphans and closed by --close-orphans.
        """
        __tracebackhide__ = True  # the user's error is what a traceback should show
        args = parse_argstring(self.matih_run, line)
        if cell is not None:
            return self._run_cell(args, line, cell)
        with user_errors():
            return self._run_line(args)

    def _check_var(self, var: str | None) -> str:
        name = var or "run"
        if not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(
                f"--as {name!r} is not a Python variable name.\nFor example --as run2."
            )
        return name

    def _start(self, args: Any, experiment: str | None, scope: str, cell: str | None) -> OpenRun:
        if args.status is not None:
            raise UsageError("--status only goes with '%matih_run end'.")
        if args.no_models and not args.autolog:
            raise UsageError("--no-models only goes with --autolog.")
        var = self._check_var(args.var)
        tags = parse_tags(args.tag)
        live_class = _widgets("LiveMetricsPlot", "--live") if args.live else None
        session = self.session
        opened = session.start_run(
            experiment,
            scope=scope,
            name=args.name,
            tags=tags,
            nested=args.nested,
            cell_source=cell,
            autolog=args.autolog,
            autolog_models=not args.no_models,
        )
        opened.variable = var
        self.shell.user_ns[var] = opened.run
        if live_class is not None:
            try:
                plot = live_class(
                    opened.run, tracker=session.tracker, tenant_id=opened.run.tenant_id
                )
                opened.live = plot
                show = getattr(plot, "display", None)
                if callable(show):
                    show()
                else:
                    from IPython.display import display

                    display(plot)
            except BaseException as exc:
                session.end_run(opened, "FAILED", error=exc, reason="the live plot failed")
                raise
        return opened

    def _run_line(self, args: Any) -> None:
        words = list(args.words)
        action = words[0] if words else None
        if action not in RUN_ACTIONS:
            raise UsageError(
                "%matih_run needs an action: start [EXPERIMENT], end or status.\n"
                "To track one cell, put %%matih_run [EXPERIMENT] on the cell's first line."
            )
        if args.var is not None and action != "start":
            raise UsageError(f"--as does not go with '%matih_run {action}'.")
        if action == "start":
            if len(words) > 2:
                raise UsageError(
                    f"Too many words: {' '.join(words[1:])!r}.\n"
                    "Use %matih_run start [EXPERIMENT]; quote names with spaces."
                )
            opened = self._start(args, words[1] if len(words) > 1 else None, "session", None)
            print(
                f"Started {_describe(opened)}, bound to '{opened.variable}' "
                f"({self.session.tracker.store.describe()}).\n"
                "It stays open across cells: log with %matih_log or "
                f"{opened.variable}.log_metric(...), end it with %matih_run end."
            )
            return
        self._no_start_options(args, action)
        if len(words) > 1:
            raise UsageError(f"'%matih_run {action}' takes no other words (got {words[1:]}).")
        if action == "status":
            self._print_status()
            return
        self._end(args.status or "FINISHED")

    @staticmethod
    def _no_start_options(args: Any, action: str) -> None:
        given = [
            flag
            for flag, value in (
                ("--name", args.name),
                ("--tag", args.tag),
                ("--nested", args.nested),
                ("--live", args.live),
                ("--autolog", args.autolog),
                ("--no-models", args.no_models),
            )
            if value
        ]
        if given:
            raise UsageError(
                f"{', '.join(given)} only go with '%matih_run start' or %%matih_run, "
                f"not '%matih_run {action}'."
            )
        if action == "status" and args.status is not None:
            raise UsageError("--status only goes with '%matih_run end'.")

    def _print_status(self) -> None:
        runs = self.session.runs
        if not runs:
            print(
                "No run is open in this notebook. Start one with %matih_run start "
                "[EXPERIMENT], or track a cell with %%matih_run."
            )
            return
        for opened in reversed(runs):
            run = opened.run
            extras = [
                "ends with its cell" if opened.scope == "cell" else "open until %matih_run end",
                f"{run.get_elapsed_time():.1f} s",
                f"{run.pending} item(s) not yet written",
            ]
            if opened.autolog is not None:
                extras.append("autolog on")
            if opened.live is not None:
                extras.append("live plot")
            print(f"RUNNING {_describe(opened)}, bound to '{opened.variable}': {', '.join(extras)}")

    def _end(self, status: str) -> None:
        session = self.session
        current = session.current
        if current is None:
            raise UsageError(
                "No run is open, so there is nothing to end.\n"
                "Start one with %matih_run start [EXPERIMENT]."
            )
        if current.scope == "cell":
            raise UsageError(
                f"This cell's {_describe(current)} ends with the cell.\n"
                "Use %matih_run end in a cell of its own for runs opened with %matih_run start."
            )
        session.end_run(current, status, reason="ended with %matih_run end")
        print(f"Ended {_describe(current)} as {status}.")

    # -- the cell form --------------------------------------------------------------------

    def _compile(self, cell: str) -> tuple[Any, Any]:
        """Compile the cell like IPython does (magics and ``!`` lines work inside), keeping
        the last expression apart so its value shows as the cell's output. A syntax error
        shows as usual, before any run is opened."""
        shell = self.shell
        # The leading newline stands for the %%matih_run line, so line numbers in
        # tracebacks match what the user sees in the cell.
        source = "\n" + shell.transform_cell(cell)
        filename = shell.compile.cache(source, shell.execution_count, raw_code=cell)
        tree = shell.transform_ast(shell.compile.ast_parse(source, filename=filename))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        body = shell.compile(tree, filename, "exec")
        tail = shell.compile(last, filename, "eval") if last is not None else None
        return body, tail

    def _run_cell(self, args: Any, line: str, cell: str) -> Any:
        __tracebackhide__ = True
        words = list(args.words)
        if words and words[0] in ("end", "status"):
            raise UsageError(
                f"'%%matih_run {words[0]}' is not a cell form.\n"
                f"Use %matih_run {words[0]} (one '%') on a line of its own."
            )
        if len(words) > 1:
            raise UsageError(
                f"%%matih_run takes at most one experiment name (got {words}).\n"
                'Quote a name with spaces: %%matih_run "my experiment".'
            )
        try:
            body, tail = self._compile(cell)
        except SyntaxError as exc:
            # Shown like any syntax error; IPython's compiler frames would only add noise.
            raise exc.with_traceback(None) from None
        with user_errors():
            header = f"%%matih_run {line}".rstrip()
            opened = self._start(args, words[0] if words else None, "cell", f"{header}\n{cell}")
        namespace = self.shell.user_ns
        try:
            exec(body, namespace)
            value = eval(tail, namespace) if tail is not None else None
        except KeyboardInterrupt as exc:
            self._end_after_error(opened, "KILLED", exc)
            raise
        except BaseException as exc:
            self._end_after_error(opened, "FAILED", exc)
            raise
        with user_errors():
            self.session.end_run(opened, "FINISHED")
        return value

    def _end_after_error(self, opened: OpenRun, status: str, exc: BaseException) -> None:
        """End the cell's run after the cell raised; the cell's own error stays the one
        the user sees."""
        try:
            self.session.end_run(opened, status, error=exc)
        except BaseException as end_error:
            exc.add_note(f"matih: while ending {_describe(opened)}: {end_error}")
        print(f"matih: {_describe(opened)} ended as {status}.", file=sys.stderr)

    # -- %matih_log ---------------------------------------------------------------------

    @line_magic
    @magic_arguments()
    @argument(
        "assignments",
        nargs="+",
        metavar="KEY=EXPR",
        help="What to log: each EXPR is evaluated in the notebook; a bare NAME means NAME=NAME.",
    )
    @argument("--step", metavar="N", help="Step of the metrics (an integer expression).")
    @argument("--params", action="store_true", help="Log the values as params (write-once).")
    @argument("--tags", action="store_true", help="Log the values as tags.")
    @maps_user_errors
    def matih_log(self, line: str) -> None:
        """Log values to the open run.

        Numbers are logged as metrics (at --step, default 0); --params logs params and
        --tags logs tags instead. Expressions may contain spaces (``acc=hits / total``);
        bare names go first (``%matih_log loss acc=hits / total``).

        Examples::

            %matih_log loss=loss acc=model.score(X_val, y_val) --step epoch
            %matih_log lr=0.01 depth=5 --params
            %matih_log dataset='v3' --tags
        """
        parser = self.matih_log.parser
        args = parser.parse_args(split_log_line(line))
        if args.params and args.tags:
            raise UsageError("Choose one of --params and --tags.")
        run = self.session.log_target()
        if run is None:
            raise UsageError(
                "No run is open to log to.\n"
                "Start one with %matih_run start [EXPERIMENT], or log inside a %%matih_run cell."
            )
        pairs = [split_assignment(token) for token in args.assignments]
        values = {key: self._evaluate(expr, key) for key, expr in pairs}
        if args.params:
            run.log_params(values)
        elif args.tags:
            run.set_tags(values)
        else:
            from ..core import metric_values, step_value
            from ..core.errors import InvalidInputError

            try:
                metrics = metric_values(values)
            except InvalidInputError as exc:
                raise usage_error(
                    exc, hint="Log it with --params or --tags, or convert it with float()."
                ) from None
            step = None
            if args.step is not None:
                value = self._evaluate(args.step, "--step")
                try:
                    step = step_value(value)
                except InvalidInputError as exc:
                    raise usage_error(
                        exc, hint=f"--step {args.step} must evaluate to an integer."
                    ) from None
            run.log_metrics(metrics, step=step)

    def _evaluate(self, expr: str, what: str) -> Any:
        try:
            return self.shell.ev(expr)
        except Exception as exc:
            raise UsageError(
                f"Could not evaluate {expr!r} for {what}: {type(exc).__name__}: {exc}\n"
                "Expressions are evaluated in the notebook's namespace."
            ) from None

    # -- %matih_runs ----------------------------------------------------------------------

    @line_magic
    @magic_arguments()
    @argument(
        "experiment",
        nargs="?",
        help="Experiment to list (default: the notebook's default experiment, else all of "
        "the tenant's experiments).",
    )
    @argument("--all", action="store_true", help="List runs of every experiment of the tenant.")
    @argument("--filter", help="MLflow filter, e.g. \"metrics.loss < 0.5 and params.lr = '0.01'\".")
    @argument("--max", type=_positive_int, default=100, help="At most this many runs (100).")
    @argument(
        "--orphans",
        action="store_true",
        help="Only runs left RUNNING by a kernel that died (dead process or stale heartbeat).",
    )
    @argument("--close-orphans", action="store_true", help="End those runs as KILLED.")
    @argument(
        "--stale-after",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="A heartbeat older than this marks a run orphaned (default 120).",
    )
    @maps_user_errors
    def matih_runs(self, line: str) -> Any:
        """List the tenant's runs as a table (newest first).

        --orphans lists runs still RUNNING whose kernel died; --close-orphans ends them as
        KILLED and lists what it closed. Runs open in this kernel are never orphans.

        Examples::

            %matih_runs
            %matih_runs churn-model --filter "metrics.val_auc > 0.8"
            %matih_runs --orphans
            %matih_runs --close-orphans
        """
        import pandas as pd

        args = parse_argstring(self.matih_runs, line)
        session = self.session
        tenant = session.require_tenant()
        tracker = session.tracker
        if args.all and args.experiment:
            raise UsageError("Give an experiment or --all, not both.")
        experiment = None
        if args.experiment:
            experiment = session.experiment_for(args.experiment)
        elif not args.all:
            experiment = session.experiment
        orphans = args.orphans or args.close_orphans
        if orphans and args.filter:
            raise UsageError("--filter does not go with --orphans or --close-orphans.")
        if args.stale_after is not None and not orphans:
            raise UsageError("--stale-after only goes with --orphans or --close-orphans.")
        extra = {} if args.stale_after is None else {"stale_after": args.stale_after}
        if args.close_orphans:
            runs = tracker.close_orphan_runs(tenant, experiment, **extra)
            where = f"experiment '{experiment}'" if experiment else f"tenant '{tenant}'"
            print(f"Closed {len(runs)} orphaned run(s) of {where} as KILLED.")
            frame = self._runs_frame(runs, tenant)
            if not frame.empty:
                frame["status"] = "killed"
            return frame
        if args.orphans:
            runs = tracker.find_orphan_runs(tenant, experiment, **extra)
            if not runs:
                print("No orphaned runs.")
            return self._runs_frame(runs, tenant)
        runs = tracker.list_runs(
            tenant, experiment, filter_string=args.filter, max_results=args.max
        )
        if not runs:
            print("No runs match.")
        frame = self._runs_frame(list(runs), tenant)
        return frame if not frame.empty else pd.DataFrame(columns=frame.columns)

    def _runs_frame(self, runs: list[Any], tenant: str) -> Any:
        import pandas as pd

        names = {e.id: e.name for e in self.session.tracker.list_experiments(tenant)}
        columns = [
            "run_id",
            "run_name",
            "experiment",
            "status",
            "start_time",
            "duration_seconds",
            "user_id",
            "parent_run_id",
        ]
        rows = []
        for r in runs:
            row: dict[str, Any] = {
                "run_id": r.id,
                "run_name": r.name,
                "experiment": names.get(r.experiment_id, r.experiment_id),
                "status": r.status,
                "start_time": pd.Timestamp(r.start_time) if r.start_time else pd.NaT,
                "duration_seconds": r.duration_seconds,
                "user_id": r.user_id,
                "parent_run_id": r.parent_run_id,
            }
            row.update({f"metrics.{k}": v for k, v in sorted(r.metrics.items())})
            rows.append(row)
        frame = pd.DataFrame(rows, columns=None if rows else columns)
        if rows:
            metric_cols = sorted(c for c in frame.columns if c.startswith("metrics."))
            frame = frame[columns + metric_cols]
        return frame

    # -- %matih_compare -------------------------------------------------------------------

    @line_magic
    @magic_arguments()
    @argument(
        "experiment",
        nargs="?",
        help="Experiment whose runs to compare (default: the notebook's default, else all).",
    )
    @argument("--runs", metavar="ID,ID", help="Compare exactly these run ids.")
    @argument("--metrics", metavar="A,B", help="Metric columns to show (default: all).")
    @argument("--filter", help="MLflow filter choosing the runs.")
    @argument(
        "--top",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"Keep N runs: the best by the first --metrics metric, else the newest "
        f"(default {DEFAULT_COMPARE_TOP}).",
    )
    @argument(
        "--ascending",
        action="store_true",
        help="With --top: lower is better for the first metric (losses, errors).",
    )
    @argument(
        "--no-widget",
        action="store_true",
        help="Only return the table; do not show the interactive comparison widget.",
    )
    @maps_user_errors
    def matih_compare(self, line: str) -> Any:
        """Compare runs side by side: one row per run with its params and metrics.

        In a notebook it shows the interactive comparison (sortable table, best values
        highlighted, a filter box, overlaid metric histories of the runs you select) and
        returns the same table as a pandas DataFrame, which is what a saved notebook keeps.
        In a terminal, or with --no-widget, it only returns the DataFrame.

        Examples::

            %matih_compare churn-model --metrics val_auc,loss --top 5
            %matih_compare --metrics loss --top 3 --ascending
            %matih_compare --runs 1a2b...,3c4d...
        """
        args = parse_argstring(self.matih_compare, line)
        session = self.session
        tenant = session.require_tenant()
        tracker = session.tracker
        metrics = parse_list(args.metrics, "--metrics")
        if metrics:
            from ..core import validate_key

            metrics = [validate_key(m, "metric") for m in metrics]
        if args.runs is not None:
            if args.experiment or args.filter or args.top or args.ascending:
                raise UsageError(
                    "--runs names the runs already; drop EXPERIMENT, --filter, --top and "
                    "--ascending."
                )
            ids = parse_list(args.runs, "--runs") or []
            return self._compared(tenant, ids, metrics, args.no_widget)
        if args.ascending and not (args.top and metrics):
            raise UsageError("--ascending only goes with --top N and --metrics.")
        experiment = (
            session.experiment_for(args.experiment) if args.experiment else session.experiment
        )
        order_by = None
        if args.top and metrics:
            direction = "ASC" if args.ascending else "DESC"
            order_by = [f"metrics.`{metrics[0]}` {direction}"]
        runs = tracker.list_runs(
            tenant,
            experiment,
            filter_string=args.filter,
            order_by=order_by,
            max_results=args.top or DEFAULT_COMPARE_TOP,
        )
        if not runs:
            print("No runs match.")
            return tracker.compare_runs(tenant, [], metrics)
        return self._compared(tenant, [r.id for r in runs], metrics, args.no_widget, runs)

    def _compared(
        self, tenant: str, ids: list[str], metrics: Any, no_widget: bool, listed: Any = None
    ) -> Any:
        """The comparison table (of the runs ``listed``, as read, else of ``ids``, read
        now); in a kernel with a front end, also the widget over it."""
        tracker = self.session.tracker
        if listed is None:
            frame = tracker.compare_runs(tenant, ids, metrics)
        else:
            from ..core import comparison_table

            frame = comparison_table(listed, metrics)
        if not no_widget and getattr(self.shell, "kernel", None) is not None:
            from IPython.display import display

            widget_class = _widgets("RunComparison", "The comparison widget")
            display(widget_class(run_ids=ids, metrics=metrics, tracker=tracker, tenant_id=tenant))
        return frame

    # -- %matih_models / %matih_promote -----------------------------------------------------

    def _registry(self) -> Any:
        """The process registry, so hooks and webhooks added to it gate and see these
        promotions too. It works on the process tracker, which `session.tracker` first
        moves to the store the environment names."""
        from ..core import get_model_registry

        _ = self.session.tracker  # moves the process tracker to the environment's store
        return get_model_registry()

    @line_magic
    @magic_arguments()
    @argument(
        "--stage",
        help="Only models whose current stage is this (development, staging, "
        "production, archived).",
    )
    @argument("--framework", help="Only models of this framework (sklearn, pytorch, ...).")
    @maps_user_errors
    def matih_models(self, line: str) -> Any:
        """List the tenant's registered models as a table.

        Examples::

            %matih_models
            %matih_models --stage production
            %matih_models --framework sklearn
        """
        import pandas as pd

        args = parse_argstring(self.matih_models, line)
        tenant = self.session.require_tenant()
        models = self._registry().list_models(tenant, stage=args.stage, framework=args.framework)
        columns = [
            "model_id",
            "current_version",
            "stage",
            "framework",
            "model_type",
            "aliases",
            "versions",
            "updated_at",
            "created_by",
            "description",
        ]
        rows = [
            {
                "model_id": m.model_id,
                "current_version": m.current_version,
                "stage": m.stage,
                "framework": m.framework,
                "model_type": m.model_type,
                "aliases": ", ".join(f"{a}=v{v}" for a, v in sorted(m.aliases.items())),
                "versions": len(m.versions),
                "updated_at": m.updated_at,
                "created_by": m.created_by,
                "description": m.description,
            }
            for m in models
        ]
        if not rows:
            print(f"No registered models for tenant '{tenant}' match.")
        return pd.DataFrame(rows, columns=columns)

    @line_magic
    @magic_arguments()
    @argument(
        "words",
        nargs="*",
        metavar="MODEL VERSION STAGE",
        help="Model name, version number and target stage; none opens the widget.",
    )
    @argument("--reason", help="Why, recorded in the model's history.")
    @maps_user_errors
    def matih_promote(self, line: str) -> Any:
        """Move a model version to another stage, or open the promotion widget.

        Allowed moves: development -> staging -> production -> archived, and any stage
        back to development. Promoting to production archives the previous production
        version. Every move is recorded with who, when and why. Where the tenant's policy
        asks for a second person, the move becomes a request (see %matih_requests).

        Examples::

            %matih_promote churn-gbm 3 staging --reason "beats v2 on val_auc"
            %matih_promote
        """
        args = parse_argstring(self.matih_promote, line)
        words = list(args.words)
        if not words:
            if args.reason:
                raise UsageError("--reason needs MODEL VERSION STAGE.")
            return self._promotion_widget()
        if len(words) != 3:
            raise UsageError(
                f"%matih_promote needs MODEL VERSION STAGE (got {len(words)} word(s)).\n"
                "For example: %matih_promote churn-gbm 3 staging --reason 'better AUC'. "
                "Run it without arguments for the promotion widget."
            )
        model, version, stage = words
        tenant = self.session.require_tenant()
        registry = self._registry()
        before = self._version_stage(registry, tenant, model, version)
        from ..core import ApprovalRequiredError

        try:
            registry.transition_stage(
                tenant, model, version, stage.lower(), reason=args.reason,
                user_id=self.session.user,
            )  # fmt: skip
        except ApprovalRequiredError as filed:  # not a mistake: the policy's second person
            print(filed.message)
            print(f"Another allowed user approves it: %matih_approve {model} {filed.request.id}")
            return None
        moved = f"{before} -> {stage.lower()}" if before else f"now {stage.lower()}"
        print(f"Model '{model}' of tenant '{tenant}', version {version}: {moved}.")
        return None

    @staticmethod
    def _version_stage(registry: Any, tenant: str, model: str, version: str) -> str | None:
        for info in registry.list_versions(tenant, model):
            if str(info.version) == str(version):
                return str(info.stage)
        return None

    def _promotion_widget(self) -> None:
        import inspect

        from IPython.display import display

        widget_class = _widgets("ModelPromotion", "The promotion widget")
        session = self.session
        params = inspect.signature(widget_class).parameters
        kwargs: dict[str, Any] = {}
        if "tenant_id" in params:
            kwargs["tenant_id"] = session.require_tenant()
        if "registry" in params:
            kwargs["registry"] = self._registry()
        elif "tracker" in params:
            kwargs["tracker"] = session.tracker
        if "user_id" in params:
            kwargs["user_id"] = session.user
        display(widget_class(**kwargs))
