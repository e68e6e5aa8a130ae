/**
 * State: what the panels show, held outside the views and announced through signals. Every
 * server call goes through `MatihClient`; failures are announced on `error` (the plugin turns
 * them into notifications) and never thrown at the views.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  IChanges,
  IExperiment,
  IMetricPoint,
  IModel,
  IModelVersion,
  IRun,
  IRunList,
  ITransition,
  IWhoAmI,
  MatihClient,
  RunStatus,
  Stage
} from './api';
import { comparableMetrics, differingParams, sortTrials } from './logic';

/** Runs per page of the runs list (more load on scroll). */
export const RUNS_PAGE = 50;
/** The most runs the server answers in one page. */
const MAX_PAGE = 1000;
/** Milliseconds a run search waits for the typing to pause. */
const SEARCH_DELAY = 300;

/** Shared by both panels: the client, the caller's identity, errors. */
export class SessionModel {
  constructor(readonly client: MatihClient) {}

  get whoami(): IWhoAmI | null {
    return this._whoami;
  }

  /** Emitted with the new identity (tenant, store). */
  get whoamiChanged(): ISignal<this, IWhoAmI | null> {
    return this._whoamiChanged;
  }

  /** Emitted with a message for people whenever a call fails. */
  get error(): ISignal<this, string> {
    return this._error;
  }

  /** Emitted after the user picked another of their tenants. */
  get tenantChanged(): ISignal<this, string> {
    return this._tenantChanged;
  }

  /** Work in another of the caller's allowed tenants (the server checks it is allowed). */
  async selectTenant(tenant: string): Promise<void> {
    if (tenant === this._whoami?.tenant_id) {
      return;
    }
    const previous = this.client.tenant;
    this.client.tenant = tenant;
    const who = await this.guard(
      () => this.client.whoami(),
      `Switching to tenant ${tenant}`
    );
    if (!who) {
      this.client.tenant = previous;
      return;
    }
    this._whoami = who;
    this._whoamiChanged.emit(who);
    this._tenantChanged.emit(who.tenant_id);
  }

  async refreshWhoami(): Promise<void> {
    const who = await this.guard(() => this.client.whoami());
    if (who) {
      this._whoami = who;
      this._whoamiChanged.emit(who);
    }
  }

  /**
   * Run `fn`; on failure announce the error and answer `undefined`. An answer that arrives
   * after the user switched tenants is also `undefined`: it belongs to the tenant no longer
   * shown, and must not land in the panels under the new one.
   */
  async guard<T>(fn: () => Promise<T>, what?: string): Promise<T | undefined> {
    const askedFor = this.client.tenant;
    try {
      const answer = await fn();
      return this.client.tenant === askedFor ? answer : undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this._error.emit(what ? `${what}: ${message}` : message);
      return undefined;
    }
  }

  private _whoami: IWhoAmI | null = null;
  private _whoamiChanged = new Signal<this, IWhoAmI | null>(this);
  private _tenantChanged = new Signal<this, string>(this);
  private _error = new Signal<this, string>(this);
}

/** The comparison of the selected runs. */
export interface IComparison {
  runs: IRun[];
  metricKeys: string[];
  metric: string | null;
  /** run id -> history of `metric` */
  histories: Record<string, IMetricPoint[]>;
  differingParams: { key: string; values: (string | undefined)[] }[];
}

/** State of the Experiments panel. */
export class ExperimentsModel {
  constructor(readonly session: SessionModel) {
    // A browser tab in the background polls no more than a hidden panel.
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get experiments(): IExperiment[] {
    return this._experiments;
  }

  /** Experiments whose name or description contains the search text (case-insensitive). */
  get visibleExperiments(): IExperiment[] {
    const q = this._search.trim().toLowerCase();
    if (!q) {
      return this._experiments;
    }
    return this._experiments.filter(
      e =>
        e.name.toLowerCase().includes(q) ||
        e.description.toLowerCase().includes(q)
    );
  }

  get search(): string {
    return this._search;
  }

  set search(value: string) {
    this._search = value;
    this._changed.emit();
  }

  get selectedExperiment(): IExperiment | null {
    return (
      this._experiments.find(e => e.id === this._selectedExperimentId) ?? null
    );
  }

  get runs(): IRun[] {
    return this._runs;
  }

  get selectedRunIds(): ReadonlySet<string> {
    return this._selectedRunIds;
  }

  /** Whether a sweep's trials are shown under its parent run. */
  isExpanded(parentId: string): boolean {
    return this._trials.has(parentId);
  }

  /** The trials of an expanded sweep, in trial order; null while they load. */
  trialsOf(parentId: string): IRun[] | null {
    return this._trials.get(parentId) ?? null;
  }

  /** Show or hide a sweep's trials; trials hidden are no longer compared. */
  async toggleSweep(parentId: string): Promise<void> {
    if (this._trials.has(parentId)) {
      this._trials
        .get(parentId)
        ?.forEach(t => this._selectedRunIds.delete(t.id));
      this._trials.delete(parentId);
      this._changed.emit();
      await this.refreshComparison();
      return;
    }
    this._trials.set(parentId, null);
    this._changed.emit();
    await this.refreshTrials([parentId]);
  }

  get comparison(): IComparison | null {
    return this._comparison;
  }

  get loading(): boolean {
    return this._loading;
  }

  /**
   * Whether the panel is live: visible (in a visible browser tab) and checking the server
   * for changes every `refreshInterval` seconds.
   */
  get live(): boolean {
    return this._visible && this._refreshInterval > 0 && !document.hidden;
  }

  /** Seconds between checks for changes while the panel is visible; 0 turns them off. */
  get refreshInterval(): number {
    return this._refreshInterval;
  }

  set refreshInterval(seconds: number) {
    this._refreshInterval = Math.max(0, seconds);
    this.schedule();
  }

  /** Set by the panel when it is shown or hidden: a hidden panel does not poll. */
  set visible(value: boolean) {
    if (value !== this._visible) {
      this._visible = value;
      this.schedule();
    }
  }

  /** The run search: runs whose name contains this text (searched on the server). */
  get runSearch(): string {
    return this._runSearch;
  }

  set runSearch(value: string) {
    this._runSearch = value;
    this.runQueryChanged(SEARCH_DELAY);
  }

  /** Only runs in this status ('' for any). */
  get runStatus(): RunStatus | '' {
    return this._runStatus;
  }

  set runStatus(value: RunStatus | '') {
    this._runStatus = value;
    this.runQueryChanged(0);
  }

  /** Whether a search or a status narrows the runs list. */
  get runsFiltered(): boolean {
    return this._runSearch.trim() !== '' || this._runStatus !== '';
  }

  /** Whether the runs list is loading its first page (a new experiment or search). */
  get runsLoading(): boolean {
    return this._runsLoading;
  }

  /** Whether the server holds more runs than the list shows. */
  get hasMoreRuns(): boolean {
    return this._nextToken !== null;
  }

  /** Forget everything shown (another tenant was selected), then reload. */
  async reset(): Promise<void> {
    this.clearSelection();
    this._experiments = [];
    this._search = '';
    this._runSearch = '';
    this._runStatus = '';
    this._seen = null;
    await this.refresh();
  }

  /** Reload experiments, then the selected experiment's runs. */
  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    // The tokens are read before the data, so the next poll sees anything newer.
    this._seen =
      (await this.session.guard(
        () => this.session.client.changes(),
        'Checking for changes'
      )) ?? this._seen;
    await this.loadExperiments();
    this._loading = false;
    this._changed.emit();
    await this.refreshRuns();
    this.schedule();
  }

  async selectExperiment(id: string | null): Promise<void> {
    if (id === this._selectedExperimentId) {
      return;
    }
    this.clearSelection();
    this._selectedExperimentId = id;
    this._runsLoading = id !== null;
    this._changed.emit();
    await this.refreshRuns();
  }

  /**
   * Reload the runs the list shows (as many as are loaded, page by page), the trials of
   * expanded sweeps, and the comparison when the compared runs moved on.
   */
  async refreshRuns(): Promise<void> {
    const id = this._selectedExperimentId;
    if (!id) {
      return;
    }
    const query = this.runQuery();
    const loaded = await this.fetchRuns(
      id,
      query,
      Math.max(RUNS_PAGE, this._runs.length)
    );
    if (!this.isCurrent(id, query)) {
      return;
    }
    this._runsLoading = false;
    if (!loaded) {
      this._changed.emit();
      return;
    }
    const before = this.listedRuns;
    this._runs = loaded.runs;
    this._nextToken = loaded.next;
    const sweeps = new Set(loaded.runs.filter(r => r.sweep).map(r => r.id));
    [...this._trials.keys()]
      .filter(p => !sweeps.has(p))
      .forEach(p => this._trials.delete(p));
    await this.refreshTrials([...this._trials.keys()]);
    const known = new Set(this.listedRuns.map(r => r.id));
    this._selectedRunIds.forEach(r => {
      if (!known.has(r)) {
        this._selectedRunIds.delete(r);
      }
    });
    this._changed.emit();
    if (this.selectionMoved(before)) {
      await this.refreshComparison();
    }
  }

  /** Load the next page of runs (scrolling to the end of the list asks for it). */
  async loadMoreRuns(): Promise<void> {
    const id = this._selectedExperimentId;
    const token = this._nextToken;
    if (!id || !token || this._loadingMore) {
      return;
    }
    const query = this.runQuery();
    this._loadingMore = true;
    const page = await this.session.guard(
      () =>
        this.session.client.listRuns(id, {
          ...query,
          maxResults: RUNS_PAGE,
          pageToken: token
        }),
      'Loading more runs'
    );
    this._loadingMore = false;
    if (page && this.isCurrent(id, query) && token === this._nextToken) {
      this._runs = unique([...this._runs, ...page.runs]);
      this._nextToken = page.next_page_token;
    }
    this._changed.emit();
  }

  /** Every run shown: the top level and the trials of expanded sweeps. */
  private get listedRuns(): IRun[] {
    const trials = [...this._trials.values()].flatMap(t => t ?? []);
    return [...this._runs, ...trials];
  }

  /** What the runs list asks the server: newest first, narrowed by the search. */
  private runQuery(): IRunQuery {
    const search = this._runSearch.trim() || undefined;
    const status = this._runStatus || undefined;
    return {
      orderBy: ['start_time DESC'],
      search,
      status,
      // A search looks at trials too: they are runs a person may look for by name.
      includeTrials: search || status ? true : undefined
    };
  }

  /** Whether answers for `id` and `query` still match what the panel shows. */
  private isCurrent(id: string, query: IRunQuery): boolean {
    return (
      id === this._selectedExperimentId &&
      JSON.stringify(query) === JSON.stringify(this.runQuery())
    );
  }

  /** The first `count` runs of a listing, in pages the server allows; null on failure. */
  private async fetchRuns(
    id: string,
    query: IRunQuery,
    count: number
  ): Promise<{ runs: IRun[]; next: string | null } | null> {
    let runs: IRun[] = [];
    let next: string | null = null;
    do {
      const token: string | undefined = next ?? undefined;
      const page: IRunList | undefined = await this.session.guard(
        () =>
          this.session.client.listRuns(id, {
            ...query,
            maxResults: Math.min(MAX_PAGE, count - runs.length),
            pageToken: token
          }),
        'Listing runs'
      );
      if (!page) {
        return null;
      }
      runs = unique([...runs, ...page.runs]);
      next = page.next_page_token;
    } while (next && runs.length < count && this.isCurrent(id, query));
    return { runs, next };
  }

  /** A new search or status: the list starts again from its first page. */
  private runQueryChanged(delay: number): void {
    if (this._searchTimer !== null) {
      window.clearTimeout(this._searchTimer);
    }
    this._runs = [];
    this._nextToken = null;
    this._runsLoading = this._selectedExperimentId !== null;
    this._changed.emit();
    this._searchTimer = window.setTimeout(() => {
      this._searchTimer = null;
      void this.refreshRuns();
    }, delay);
  }

  /** Reload the experiments list (not the runs). */
  private async loadExperiments(): Promise<void> {
    const found = await this.session.guard(
      () => this.session.client.listExperiments(),
      'Listing experiments'
    );
    if (found) {
      this._experiments = found;
      if (this._selectedExperimentId && !this.selectedExperiment) {
        this.clearSelection();
      }
      this._changed.emit();
    }
  }

  /** Ask the server what changed; reload the experiments or the runs that did. */
  private async poll(): Promise<void> {
    const now = await this.session.guard(
      () => this.session.client.changes(),
      'Checking for changes'
    );
    const before = this._seen;
    if (now) {
      this._seen = now;
    }
    if (now && before) {
      const id = this._selectedExperimentId;
      await Promise.all([
        now.experiments !== before.experiments ? this.loadExperiments() : null,
        id && now.runs[id] !== before.runs[id] ? this.refreshRuns() : null
      ]);
    }
  }

  /** Poll again later, while the panel is live; one poll at a time. */
  private schedule(): void {
    this.stopTimer();
    if (this.live && !this._polling) {
      this._timer = window.setTimeout(() => {
        this._timer = null;
        this._polling = true;
        void this.poll().finally(() => {
          this._polling = false;
          this.schedule();
        });
      }, this._refreshInterval * 1000);
    }
    this._changed.emit();
  }

  /** Load the trials of expanded sweeps (a trial list is one `?parent=` listing). */
  private async refreshTrials(parentIds: string[]): Promise<void> {
    const id = this._selectedExperimentId;
    if (!id || parentIds.length === 0) {
      return;
    }
    const lists = await Promise.all(
      parentIds.map(parent =>
        this.session.guard(
          () => this.session.client.listRuns(id, { parent, maxResults: 1000 }),
          'Listing trials'
        )
      )
    );
    if (id !== this._selectedExperimentId) {
      return;
    }
    parentIds.forEach((parent, i) => {
      const list = lists[i];
      const shown = this._trials.get(parent);
      // A sweep collapsed while its trials loaded stays collapsed; a failed load (already
      // announced) keeps the trials shown before.
      if (shown !== undefined) {
        this._trials.set(parent, list ? sortTrials(list.runs) : (shown ?? []));
      }
    });
    this._changed.emit();
  }

  /** Tick or untick a run for comparison. */
  async toggleRun(runId: string): Promise<void> {
    if (this._selectedRunIds.has(runId)) {
      this._selectedRunIds.delete(runId);
    } else {
      this._selectedRunIds.add(runId);
    }
    this._changed.emit();
    await this.refreshComparison();
  }

  /** Show another metric in the comparison chart. */
  async selectMetric(key: string): Promise<void> {
    this._metric = key;
    await this.refreshComparison();
  }

  /** Select a run's experiment and tick the run (used by links from the Models panel). */
  async revealRun(runId: string): Promise<void> {
    const run = await this.session.guard(
      () => this.session.client.getRun(runId),
      'Opening run'
    );
    if (!run) {
      return;
    }
    if (!this._experiments.some(e => e.id === run.experiment_id)) {
      await this.refresh();
    }
    await this.selectExperiment(run.experiment_id);
    this._highlightedRunId = runId;
    this._changed.emit();
  }

  /** The run a link pointed at, shown highlighted. */
  get highlightedRunId(): string | null {
    return this._highlightedRunId;
  }

  dispose(): void {
    this.stopTimer();
    if (this._searchTimer !== null) {
      window.clearTimeout(this._searchTimer);
    }
    document.removeEventListener('visibilitychange', this._onVisibility);
    Signal.clearData(this);
  }

  private async refreshComparison(): Promise<void> {
    const runs = this.listedRuns.filter(r => this._selectedRunIds.has(r.id));
    if (runs.length < 2) {
      this._comparison = null;
      this._changed.emit();
      return;
    }
    const metricKeys = comparableMetrics(runs);
    const metric =
      this._metric && metricKeys.includes(this._metric)
        ? this._metric
        : (metricKeys[0] ?? null);
    const histories: Record<string, IMetricPoint[]> = {};
    if (metric) {
      const results = await Promise.all(
        runs.map(r =>
          r.metrics[metric] === undefined
            ? Promise.resolve([] as IMetricPoint[])
            : this.session.guard(
                () => this.session.client.metricHistory(r.id, metric),
                `Loading ${metric} of run ${r.name ?? r.id}`
              )
        )
      );
      runs.forEach((r, i) => {
        histories[r.id] = results[i] ?? [];
      });
    }
    // The selection may have changed while the histories loaded: keep only the latest answer.
    const now = this.listedRuns.filter(r => this._selectedRunIds.has(r.id));
    if (now.map(r => r.id).join() !== runs.map(r => r.id).join()) {
      return;
    }
    this._comparison = {
      runs,
      metricKeys,
      metric,
      histories,
      differingParams: differingParams(runs)
    };
    this._changed.emit();
  }

  /** Whether a selected run changed (new metrics, new status) since `before`. */
  private selectionMoved(before: IRun[]): boolean {
    if (this._selectedRunIds.size < 2) {
      return this._comparison !== null;
    }
    const old = new Map(before.map(r => [r.id, r]));
    return this.listedRuns.some(r => {
      if (!this._selectedRunIds.has(r.id)) {
        return false;
      }
      const prev = old.get(r.id);
      return (
        !prev ||
        prev.status !== r.status ||
        JSON.stringify(prev.metrics) !== JSON.stringify(r.metrics)
      );
    });
  }

  private clearSelection(): void {
    this._selectedExperimentId = null;
    this._runs = [];
    this._nextToken = null;
    this._trials.clear();
    this._selectedRunIds.clear();
    this._comparison = null;
    this._highlightedRunId = null;
  }

  private stopTimer(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _changed = new Signal<this, void>(this);
  private _experiments: IExperiment[] = [];
  private _search = '';
  private _selectedExperimentId: string | null = null;
  private _runs: IRun[] = [];
  /** Expanded sweeps: parent run id -> its trials (null while they load). */
  private _trials = new Map<string, IRun[] | null>();
  private _selectedRunIds = new Set<string>();
  private _comparison: IComparison | null = null;
  private _metric: string | null = null;
  private _highlightedRunId: string | null = null;
  private _loading = false;
  private _refreshInterval = 1.5;
  private _timer: number | null = null;
  private _visible = false;
  private _polling = false;
  /** The change tokens the data shown is at least as new as. */
  private _seen: IChanges | null = null;
  private _nextToken: string | null = null;
  private _loadingMore = false;
  private _runsLoading = false;
  private _runSearch = '';
  private _runStatus: RunStatus | '' = '';
  private _searchTimer: number | null = null;
  private _onVisibility = () => this.schedule();
}

/** The query of the runs list. */
interface IRunQuery {
  orderBy: string[];
  search?: string;
  status?: RunStatus;
  includeTrials?: boolean;
}

/** Runs without repeats (a run may move between pages while they load), first seen kept. */
function unique(runs: IRun[]): IRun[] {
  const seen = new Set<string>();
  return runs.filter(r => !seen.has(r.id) && seen.add(r.id));
}

/** State of the Models panel. */
export class ModelsModel {
  constructor(readonly session: SessionModel) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get models(): IModel[] {
    return this._models;
  }

  get selectedModel(): IModel | null {
    return this._models.find(m => m.model_id === this._selectedModelId) ?? null;
  }

  get versions(): IModelVersion[] {
    return this._versions;
  }

  get history(): ITransition[] {
    return this._history;
  }

  async refresh(): Promise<void> {
    const found = await this.session.guard(
      () => this.session.client.listModels(),
      'Listing models'
    );
    if (found) {
      this._models = found;
      if (this._selectedModelId && !this.selectedModel) {
        this._selectedModelId = null;
        this._versions = [];
        this._history = [];
      }
      this._changed.emit();
    }
    await this.refreshSelected();
  }

  /** Forget everything shown (another tenant was selected), then reload. */
  async reset(): Promise<void> {
    this._models = [];
    this._selectedModelId = null;
    this._versions = [];
    this._history = [];
    await this.refresh();
  }

  async selectModel(modelId: string | null): Promise<void> {
    this._selectedModelId = modelId;
    this._versions = [];
    this._history = [];
    this._changed.emit();
    await this.refreshSelected();
  }

  /** Move `version` to `stage`; answers whether the server accepted the move. */
  async transition(
    version: string,
    stage: Stage,
    reason: string
  ): Promise<boolean> {
    const model = this.selectedModel;
    if (!model) {
      return false;
    }
    const done = await this.session.guard(
      () =>
        this.session.client.transitionStage(
          model.model_id,
          version,
          stage,
          reason
        ),
      `Moving ${model.name} v${version} to ${stage}`
    );
    await this.refresh();
    return done !== undefined;
  }

  /** Restore the previous production version; answers whether the server accepted it. */
  async rollback(reason: string): Promise<boolean> {
    const model = this.selectedModel;
    if (!model) {
      return false;
    }
    const done = await this.session.guard(
      () => this.session.client.rollback(model.model_id, reason),
      `Rolling back ${model.name}`
    );
    await this.refresh();
    return done !== undefined;
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private async refreshSelected(): Promise<void> {
    const id = this._selectedModelId;
    if (!id) {
      return;
    }
    const [versions, history] = await Promise.all([
      this.session.guard(
        () => this.session.client.listVersions(id),
        'Listing versions'
      ),
      this.session.guard(
        () => this.session.client.history(id),
        'Loading transition history'
      )
    ]);
    if (id !== this._selectedModelId) {
      return;
    }
    this._versions = versions ?? [];
    this._history = history ?? [];
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _models: IModel[] = [];
  private _selectedModelId: string | null = null;
  private _versions: IModelVersion[] = [];
  private _history: ITransition[] = [];
}
