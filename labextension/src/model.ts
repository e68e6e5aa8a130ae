/**
 * State: what the panels show, held outside the views and announced through signals. Every
 * server call goes through `MatihClient`; failures are announced on `error` (the plugin turns
 * them into notifications) and never thrown at the views.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  IExperiment,
  IMetricPoint,
  IModel,
  IModelVersion,
  IRun,
  ITransition,
  IWhoAmI,
  MatihClient,
  Stage
} from './api';
import {
  comparableMetrics,
  differingParams,
  hasLiveRuns,
  sortTrials
} from './logic';

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

  /** Run `fn`; on failure announce the error and answer `undefined`. */
  async guard<T>(fn: () => Promise<T>, what?: string): Promise<T | undefined> {
    try {
      return await fn();
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
  constructor(readonly session: SessionModel) {}

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

  /** Whether the runs list is refreshing itself (a run is live and the interval is > 0). */
  get autoRefreshing(): boolean {
    return this._timer !== null;
  }

  /** Seconds between refreshes while a run is live; 0 turns auto-refresh off. */
  get refreshInterval(): number {
    return this._refreshInterval;
  }

  set refreshInterval(seconds: number) {
    this._refreshInterval = Math.max(0, seconds);
    this.schedule();
  }

  /** Forget everything shown (another tenant was selected), then reload. */
  async reset(): Promise<void> {
    this.stopTimer();
    this.clearSelection();
    this._experiments = [];
    this._search = '';
    await this.refresh();
  }

  /** Reload experiments, then the selected experiment's runs. */
  async refresh(): Promise<void> {
    this._loading = true;
    this._changed.emit();
    const found = await this.session.guard(
      () => this.session.client.listExperiments(),
      'Listing experiments'
    );
    if (found) {
      this._experiments = found;
      if (this._selectedExperimentId && !this.selectedExperiment) {
        this.clearSelection();
      }
    }
    this._loading = false;
    this._changed.emit();
    await this.refreshRuns();
  }

  async selectExperiment(id: string | null): Promise<void> {
    if (id === this._selectedExperimentId) {
      return;
    }
    this.clearSelection();
    this._selectedExperimentId = id;
    this._changed.emit();
    await this.refreshRuns();
  }

  /** Reload the selected experiment's runs (and the comparison, when the runs moved on). */
  async refreshRuns(): Promise<void> {
    const id = this._selectedExperimentId;
    if (!id) {
      this.schedule();
      return;
    }
    const list = await this.session.guard(
      () =>
        this.session.client.listRuns(id, {
          orderBy: ['start_time DESC'],
          maxResults: 200
        }),
      'Listing runs'
    );
    if (list && id === this._selectedExperimentId) {
      const before = this.listedRuns;
      this._runs = list.runs;
      const sweeps = new Set(list.runs.filter(r => r.sweep).map(r => r.id));
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
    this.schedule();
  }

  /** Every run shown: the top level and the trials of expanded sweeps. */
  private get listedRuns(): IRun[] {
    const trials = [...this._trials.values()].flatMap(t => t ?? []);
    return [...this._runs, ...trials];
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
    this._trials.clear();
    this._selectedRunIds.clear();
    this._comparison = null;
    this._highlightedRunId = null;
  }

  /** Refresh again later only while a run is live (finished runs do not change). */
  private schedule(): void {
    this.stopTimer();
    if (this._refreshInterval > 0 && hasLiveRuns(this._runs)) {
      this._timer = window.setTimeout(() => {
        this._timer = null;
        void this.refreshRuns();
      }, this._refreshInterval * 1000);
    }
    this._changed.emit();
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
  private _refreshInterval = 5;
  private _timer: number | null = null;
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
