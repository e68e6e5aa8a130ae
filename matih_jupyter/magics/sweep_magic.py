"""``%%matih_sweep``: a hyperparameter sweep from one cell, over the tracker's `sweep`."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ._errors import maps_user_errors, user_errors
from .magics import _positive_int, parse_argstring
from .session import MagicSession

DEFAULT_RESULT_VAR = "sweep"
#: Failed trials named in the summary (the rest are counted).
MAX_FAILURES_SHOWN = 3


@magics_class
class SweepMagics(Magics):
    """Hyperparameter sweeps on Optuna, each trial a child run of the sweep's run."""

    def __init__(self, shell: Any, session: MagicSession) -> None:
        super().__init__(shell)
        self.session = session

    @cell_magic
    @magic_arguments()
    @argument(
        "experiment",
        nargs="?",
        help="Experiment of the sweep (default: the one set with %%matih_experiment).",
    )
    @argument("--trials", type=_positive_int, default=20, help="Trials in all (20).")
    @argument("--metric", required=True, help="The metric the objective returns, e.g. val_loss.")
    @argument(
        "--direction", default="minimize", help="minimize (the default) or maximize the metric."
    )
    @argument(
        "--name",
        default="sweep",
        help="Sweep name within the experiment ('sweep'). Running the same name again "
        "continues that sweep up to --trials.",
    )
    @argument("--timeout", type=float, help="Stop starting trials after this many seconds.")
    @argument("--seed", type=int, help="Seed of Optuna's sampler (TPE), for a repeatable search.")
    @argument(
        "--live",
        action="store_true",
        help="Follow the sweep live: best so far, parallel coordinates of params against "
        "the metric, the trials table; click a trial to see its curves.",
    )
    @argument(
        "--result",
        default=DEFAULT_RESULT_VAR,
        metavar="VAR",
        help=f"Variable that receives the SweepResult ('{DEFAULT_RESULT_VAR}').",
    )
    @maps_user_errors
    def matih_sweep(self, line: str, cell: str) -> None:
        """Run a hyperparameter sweep: the sweep is a run, each trial a child run.

        The cell either defines ``objective(trial)`` or is the objective itself, using
        ``trial`` (an Optuna trial) directly and ending with the value of --metric::

            %%matih_sweep churn --trials 20 --metric val_auc --direction maximize
            depth = trial.suggest_int("max_depth", 2, 8)
            model = GradientBoostingClassifier(max_depth=depth).fit(X_train, y_train)
            model.score(X_val, y_val)

        With ``--live`` the cell shows the sweep as it runs: the best value so far per
        trial, parallel coordinates of the params against the metric, and the trials
        table (state, value, duration); clicking a row or a line shows that trial's
        curves. When the sweep ends the view becomes a picture and a text table, which
        the saved notebook keeps.

        ``trial.report(value, step)`` records intermediate values (the trial's metric
        curve) and lets Optuna's pruner stop bad trials; ``%matih_log`` inside the cell
        logs to the trial's run. A failing trial is recorded FAILED and the sweep goes on.
        Running the cell again continues the sweep of the same --name up to --trials in
        all; trials a dead kernel left running are closed KILLED. The result (best run,
        value, params, Optuna study) is put in the variable ``sweep`` (see --result).
        """
        args = parse_argstring(self.matih_sweep, line)
        if not args.result.isidentifier():
            raise UsageError(f"--result {args.result!r} is not a Python variable name.")
        objective = self._objective(cell)
        session = self.session
        with user_errors():
            from ..core import RunConfig

            config = RunConfig(
                tenant_id=session.require_tenant(),
                user_id=session.user,
                job_id=session.job_id,
                notebook_path=session.notebook_path(),
            )
            view = self._live_view(args) if args.live else None
            try:
                result = session.tracker.sweep(
                    objective,
                    session.experiment_for(args.experiment),
                    config,
                    n_trials=args.trials,
                    metric=args.metric,
                    direction=args.direction,
                    sweep_name=args.name,
                    timeout=args.timeout,
                    sampler=_sampler(args.seed),
                    on_trial=view.on_trial if view is not None else None,
                )
            finally:
                if view is not None:
                    view.finish()
        result.registry = self._registry()
        result.on_registered = self._show_promotion
        self.shell.user_ns[args.result] = result
        print(_summary(result, args.result))

    def _live_view(self, args: Any) -> Any:
        """The live sweep view, shown in the cell's output before the first trial."""
        from .magics import _widgets

        view_class = _widgets("SweepView", "--live")
        view = view_class(args.metric, args.direction, sweep_name=args.name, n_trials=args.trials)
        return view.display()

    def _registry(self) -> Any:
        """The process registry (its hooks gate these registrations too), on the store
        the session's tracker uses."""
        from ..core import get_model_registry

        _ = self.session.tracker  # moves the process tracker to the environment's store
        return get_model_registry()

    def _show_promotion(self, version: Any) -> None:
        """After ``sweep.register_best(...)``: the promotion widget on the new version."""
        from IPython.display import display

        from .magics import _widgets

        promotion = _widgets("ModelPromotion", "The promotion widget")
        session = self.session
        display(
            promotion(
                version.name,
                registry=self._registry(),
                tenant_id=session.require_tenant(),
                user_id=session.user,
            )
        )

    def _objective(self, cell: str) -> Any:
        """The cell's ``objective``, or the cell body as one (its last expression is the
        trial's value). A syntax error shows before anything runs."""
        shell = self.shell
        tree = ast.parse(shell.transform_cell(cell))
        namespace = shell.user_ns
        if any(isinstance(n, ast.FunctionDef) and n.name == "objective" for n in tree.body):
            exec(compile(tree, "<matih_sweep>", "exec"), namespace)
            return namespace["objective"]
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = compile(tree, "<matih_sweep>", "exec")
        tail = compile(ast.Expression(last.value), "<matih_sweep>", "eval") if last else None

        def objective(trial: Any) -> Any:
            namespace["trial"] = trial
            exec(body, namespace)
            return eval(tail, namespace) if tail is not None else None

        return objective


def _sampler(seed: int | None) -> Any:
    """Optuna's default sampler, seeded when asked (None: Optuna's own default)."""
    if seed is None:
        return None
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _summary(result: Any, var: str) -> str:
    states = Counter(t.state for t in result.trials)
    ran = ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items())) or "none"
    lines = [f"Sweep '{result.name}': {len(result.trials)} trials run ({ran})."]
    failed = [t for t in result.trials if t.error]
    lines += [f"  trial {t.number} failed: {t.error:.200}" for t in failed[:MAX_FAILURES_SHOWN]]
    if len(failed) > MAX_FAILURES_SHOWN:
        lines.append(f"  ... and {len(failed) - MAX_FAILURES_SHOWN} more (see their runs' tags).")
    if result.best_run_id is None:
        lines.append("No trial completed yet.")
    else:
        lines.append(
            f"Best: trial {result.best_trial}, {result.metric} = {result.best_value:.6g}, "
            f"params {result.best_params} (run {result.best_run_id})."
        )
    lines.append(f"The sweep's run: {result.parent_run_id}. The result is in `{var}`.")
    if result.best_model is not None:
        lines.append(f"Register the best model with {var}.register_best('MODEL_NAME').")
    return "\n".join(lines)
