"""The tracker's reads of runs: one run, a filtered page of runs, a metric's history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..backend import client as mlc
from ..backend import convert
from ..backend.bulk import collector_paused, gc_paused
from ..backend.error_map import translate_errors
from ..errors import InvalidInputError
from ..isolation import isolated_methods
from ..models import MetricPoint, RunResponse
from ..tenancy import TAG_TENANT, quote_filter_value, validate_key
from .ownership import not_found

if TYPE_CHECKING:
    from .ownership import Ownership

MAX_RESULTS = 50000


class RunList(list):
    """A page of runs; ``next_page_token`` is set when more runs match."""

    next_page_token: str | None = None


@isolated_methods
class RunQueriesMixin:
    """Run reads of `ExperimentTracker`."""

    _own: Ownership
    _client: Any
    _tenant: Callable[[str | None], str]

    @gc_paused
    def get_run(
        self,
        run_id: str,
        tenant_id: str | None = None,
        *,
        include_artifacts: bool = True,
        flush: bool = True,
    ) -> RunResponse:
        """The tenant's run; `NotFoundError` for missing or foreign ids. A run open in this
        process is flushed first (unless ``flush=False``: a reader on another thread while
        the run logs, which must not wait for the logging to pause), so the answer includes
        everything logged."""
        tenant = self._tenant(tenant_id)
        run = self._own.run(run_id, tenant, flush=flush)
        artifacts = None
        if include_artifacts:
            with translate_errors(f"listing artifacts of run {run_id}"):
                listed = mlc.root_artifacts(self._client, run.info.artifact_uri)
            artifacts = [f.path for f in listed]
        return convert.run_response(run, artifacts)

    def get_runs(
        self, run_ids: Iterable[str], tenant_id: str | None = None, *, flush: bool = True
    ) -> list[RunResponse]:
        """The tenant's runs in the order asked (no artifacts listed), read with a few
        searches rather than one read per run; `NotFoundError` names the first id that is
        missing or another tenant's, exactly as `get_run` would (``flush`` likewise)."""
        tenant = self._tenant(tenant_id)
        if isinstance(run_ids, str):
            raise InvalidInputError("run_ids", "is one string.", hint="Pass a list of run ids.")
        ids = list(run_ids)
        with collector_paused():
            found = self._own.runs(ids, tenant, flush=flush) if ids else {}
            for rid in ids:
                if rid not in found:
                    raise not_found(f"Run '{rid}'", tenant)
            responses = {rid: convert.run_response(run) for rid, run in found.items()}
            return [responses[rid] for rid in ids]

    def list_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        max_results: int = 1000,
        *,
        page_token: str | None = None,
        experiment_ids: Iterable[str] | None = None,
        include_deleted: bool = False,
    ) -> RunList:
        """The tenant's runs, optionally in one experiment, filtered with MLflow's filter
        syntax (for example ``"metrics.val_auc > 0.85 and params.depth = '5'"``)."""
        tenant = self._tenant(tenant_id)
        ids = self._experiment_ids(tenant, experiment_name, experiment_ids)
        result = RunList()
        if not ids:
            return result
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
            raise InvalidInputError("max_results", f"{max_results!r} is not in 1..{MAX_RESULTS}.")
        with collector_paused():
            page = self._search(tenant, ids, filter_string, order_by, max_results, page_token,
                                include_deleted)  # fmt: skip
            for run in page:
                if run.data.tags.get(TAG_TENANT) == tenant and run.info.experiment_id in ids:
                    result.append(convert.run_response(run))
        result.next_page_token = page.token
        return result

    def _experiment_ids(
        self, tenant: str, name: str | None, experiment_ids: Iterable[str] | None
    ) -> list[str]:
        """The tenant's experiments a search covers: one by name, the ids given, or all."""
        if name is not None:
            return [self._own.experiment_id_by_name(name, tenant)]
        if experiment_ids is not None:
            return [self._own.experiment_id(e, tenant) for e in experiment_ids]
        return [str(e.experiment_id) for e in self._own.tenant_experiments(tenant)]

    def _search(
        self,
        tenant: str,
        ids: list[str],
        filter_string: str | None,
        order_by: list[str] | None,
        max_results: int,
        page_token: str | None,
        include_deleted: bool,
    ) -> Any:
        """One page of MLflow's search, the user's filter ANDed with an exact tenant clause."""
        clause = f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}"
        user_filter = (filter_string or "").strip()
        combined = f"{user_filter} and {clause}" if user_filter else clause
        view = mlc.ViewType.ALL if include_deleted else mlc.ViewType.ACTIVE_ONLY
        try:
            with translate_errors("searching runs"):
                return self._client.search_runs(
                    ids,
                    filter_string=combined,
                    run_view_type=view,
                    max_results=max_results,
                    order_by=list(order_by or ["attributes.start_time DESC"]),
                    page_token=page_token,
                )
        except InvalidInputError as exc:
            raise InvalidInputError(
                "filter_string",
                f"{user_filter!r} is not a valid MLflow filter ({exc.message}).",
                hint="Example: metrics.loss < 0.5 and params.lr = '0.01' and "
                "attributes.status = 'FINISHED'.",
            ) from None

    @gc_paused
    def get_metric_history(
        self, run_id: str, key: str, tenant_id: str | None = None, *, flush: bool = True
    ) -> list[MetricPoint]:
        """Every logged point of one metric, by step (``flush`` as for `get_run`)."""
        tenant = self._tenant(tenant_id)
        validate_key(key, "metric key")
        self._own.check_run(run_id, tenant, flush=flush)
        with translate_errors(f"reading metric {key!r}"):
            history = self._client.get_metric_history(run_id, key)
        return sorted(convert.metric_points(history), key=lambda p: (p.step, p.timestamp))
