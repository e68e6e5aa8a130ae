"""A tenant's view of MLflow's experiments and runs: every read is checked to belong to the
tenant, and another tenant's ids answer exactly like missing ones.

An experiment belongs to a tenant when its name is ``<tenant>/<name>`` and its tenant tag
says so; a run, when its tenant tag says so and its experiment belongs to the tenant.
Queries are exact: the tenant enters MLflow filters only as a quoted literal.
"""

from __future__ import annotations

import re
from typing import Any

from ..backend import client as mlc
from ..backend.error_map import translate_errors
from ..backend.paging import all_pages
from ..errors import NotFoundError
from ..tenancy import TAG_TENANT, experiment_full_name, quote_filter_value, split_experiment_name
from . import live_runs

_RUN_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_EXPERIMENT_ID_RE = re.compile(r"^[0-9A-Za-z_\-]{1,64}$")
#: Run ids one search names: MLflow parses the filter token by token, so a longer list
#: buys nothing, and a shorter one pays a query per few runs.
RUNS_PER_SEARCH = 500
#: Runs whose tenant `Ownership` keeps once read.
MAX_RUNS_REMEMBERED = 100_000


def not_found(what: str, tenant: str) -> NotFoundError:
    """The one answer for a missing resource and for another tenant's."""
    return NotFoundError(f"{what} was not found for tenant '{tenant}'.")


class Ownership:
    """Reads experiments and runs for a tenant, refusing whatever is not the tenant's.

    Args:
        client: The MLflow client.
        tracker: The tracker whose open runs are flushed before they are read.
    """

    def __init__(self, client: Any, tracker: object) -> None:
        self._client = client
        self._tracker = tracker
        #: (tenant, short name) -> experiment id, for experiments known to be the tenant's.
        self.experiment_ids: dict[tuple[str, str], str] = {}
        #: experiment id -> its tenant, once checked.
        self.owner: dict[str, str] = {}
        #: run id -> its tenant, once a read showed it: a run never moves to another
        #: experiment, and its tenant tag is reserved (no tenant can write it).
        self.run_owner: dict[str, str] = {}

    def by_name(self, full: str) -> Any:
        with translate_errors(f"looking up experiment '{full}'"):
            return self._client.get_experiment_by_name(full)

    def check_owned(self, exp: Any, tenant: str, what: str) -> None:
        if exp is None:
            raise not_found(what, tenant)
        split = split_experiment_name(exp.name)
        if not split or split[0] != tenant or (exp.tags or {}).get(TAG_TENANT) != tenant:
            raise not_found(what, tenant)
        self.owner[str(exp.experiment_id)] = tenant

    def remember(self, tenant: str, name: str, experiment_id: str) -> None:
        self.experiment_ids[(tenant, name)] = experiment_id
        self.owner[experiment_id] = tenant

    def forget(self, experiment_id: str) -> None:
        self.experiment_ids = {k: v for k, v in self.experiment_ids.items() if v != experiment_id}

    def experiment(self, experiment_id: Any, tenant: str) -> Any:
        """The tenant's MLflow experiment by id."""
        what = f"Experiment '{experiment_id}'"
        if not isinstance(experiment_id, str | int) or not _EXPERIMENT_ID_RE.match(
            str(experiment_id)
        ):
            raise not_found(what, tenant)
        with translate_errors(f"reading {what}", not_found=not_found(what, tenant).message):
            exp = self._client.get_experiment(str(experiment_id))
        self.check_owned(exp, tenant, what)
        return exp

    def experiment_id(self, experiment_id: Any, tenant: str) -> str:
        """The id of the tenant's experiment ``experiment_id``, read only if not yet known
        to be the tenant's."""
        if isinstance(experiment_id, str | int) and self.owner.get(str(experiment_id)) == tenant:
            return str(experiment_id)
        return str(self.experiment(experiment_id, tenant).experiment_id)

    def experiment_id_by_name(self, name: str, tenant: str) -> str:
        cached = self.experiment_ids.get((tenant, name))
        if cached:
            return cached
        exp = self.by_name(experiment_full_name(tenant, name))
        self.check_owned(exp, tenant, f"Experiment '{name}'")
        return str(exp.experiment_id)

    def tenant_experiments(self, tenant: str, include_archived: bool = False) -> list[Any]:
        """Every MLflow experiment of the tenant, newest first."""
        view = mlc.ViewType.ALL if include_archived else mlc.ViewType.ACTIVE_ONLY
        with translate_errors(f"listing experiments of tenant '{tenant}'"):
            found = all_pages(
                self._client.search_experiments,
                view_type=view,
                filter_string=f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}",
                order_by=["creation_time DESC"],
                max_results=1000,
            )
        owned = []
        for exp in found:
            split = split_experiment_name(exp.name)
            if split and split[0] == tenant and exp.tags.get(TAG_TENANT) == tenant:
                self.owner[str(exp.experiment_id)] = tenant
                owned.append(exp)
        return owned

    def run(self, run_id: Any, tenant: str, *, flush: bool = True) -> Any:
        """The tenant's MLflow run by id; a run open in this process is flushed first
        (unless ``flush`` is False), so the answer includes everything logged."""
        what = f"Run '{run_id}'"
        if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
            raise not_found(what, tenant)
        live = live_runs.find(run_id, self._tracker)
        if flush and live is not None and live.tenant_id == tenant and not live.ended:
            live.flush()
        with translate_errors(f"reading {what}", not_found=not_found(what, tenant).message):
            run = mlc.read_run(self._client, run_id)
        if run is None or not self.owns_run(run, tenant):
            raise not_found(what, tenant)
        self.remember_run(run_id, tenant)
        return run

    def check_run(self, run_id: Any, tenant: str, *, flush: bool = True) -> None:
        """`NotFoundError` unless ``run_id`` is the tenant's: read as in `run` the first
        time, then known (see ``run_owner``). Open runs are flushed first, as in `run`."""
        if isinstance(run_id, str) and self.run_owner.get(run_id) == tenant:
            if flush:
                self.flush_open({run_id}, tenant)
            return
        self.run(run_id, tenant, flush=flush)

    def remember_run(self, run_id: str, tenant: str) -> None:
        if len(self.run_owner) >= MAX_RUNS_REMEMBERED:
            self.run_owner.clear()  # bounded; forgetting only costs a read
        self.run_owner[run_id] = tenant

    def runs(self, run_ids: list[str], tenant: str, *, flush: bool = True) -> dict[str, Any]:
        """The tenant's MLflow runs among ``run_ids`` by id, read with MLflow's search of
        the tenant's experiments (not one read per run); ids that are malformed, missing
        or another tenant's are simply absent. Open runs are flushed first, as in `run`."""
        wanted = [r for r in dict.fromkeys(run_ids) if isinstance(r, str) and _RUN_ID_RE.match(r)]
        if flush:
            self.flush_open(set(wanted), tenant)
        experiments = [str(e.experiment_id) for e in self.tenant_experiments(tenant, True)]
        found: dict[str, Any] = {}
        if not experiments:
            return found
        clause = f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}"
        for start in range(0, len(wanted), RUNS_PER_SEARCH):
            chunk = wanted[start : start + RUNS_PER_SEARCH]
            listed = ", ".join(f"'{r}'" for r in chunk)  # each matched _RUN_ID_RE
            with translate_errors(f"reading {len(chunk)} runs"):
                page = self._client.search_runs(
                    experiments,
                    filter_string=f"attributes.run_id IN ({listed}) and {clause}",
                    run_view_type=mlc.ViewType.ALL,
                    max_results=len(chunk),
                )
            found.update((r.info.run_id, r) for r in page if self.owns_run(r, tenant))
        for run_id in found:
            self.remember_run(run_id, tenant)
        return found

    def flush_open(self, run_ids: set[str], tenant: str) -> None:
        """Flush the tenant's runs among ``run_ids`` that are open in this process."""
        for live in live_runs.open_runs():
            mine = live.tracker is self._tracker and live.tenant_id == tenant
            if mine and live.run_id in run_ids and not live.ended:
                live.flush()

    def owns_run(self, run: Any, tenant: str) -> bool:
        return run.data.tags.get(TAG_TENANT) == tenant and self.owns_experiment(
            run.info.experiment_id, tenant
        )

    def owns_experiment(self, experiment_id: str, tenant: str) -> bool:
        owner = self.owner.get(str(experiment_id))
        if owner is not None:
            return owner == tenant
        try:
            self.experiment(experiment_id, tenant)
        except NotFoundError:
            return False
        return True
