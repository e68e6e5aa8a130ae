/**
 * Transport: a typed client for the matih REST API served by the server extension under
 * `{base_url}/matih/api/v1/`. Types mirror `matih_jupyter/server/openapi.yaml`; nothing here
 * holds state beyond the server connection settings.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Path prefix of every route, relative to the server's base URL. */
export const API_PREFIX = 'matih/api/v1';

/** GET /whoami */
export interface IWhoAmI {
  user: string;
  tenant_id: string;
  allowed_tenants: string[];
  store: string;
  embedded_store: boolean;
}

/** ExperimentResponse */
export interface IExperiment {
  id: string;
  name: string;
  description: string;
  artifact_location: string;
  lifecycle_stage: string;
  created_at: string;
  last_updated: string;
  tags: Record<string, string>;
  tenant_id: string;
  full_name: string;
}

/** Run status as the API spells it (lower case). */
export type RunStatus =
  'running' | 'finished' | 'failed' | 'killed' | 'scheduled';

/** RunResponse */
export interface IRun {
  id: string;
  experiment_id: string;
  name: string | null;
  status: RunStatus | string;
  start_time: string;
  end_time: string | null;
  duration_seconds: number | null;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: Record<string, number | null>;
  artifacts: string[];
  tenant_id: string;
  user_id?: string | null;
  parent_run_id?: string | null;
  artifact_uri?: string | null;
  lifecycle_stage?: string;
  /** In runs listings: set on a sweep's parent run, null on other runs. */
  sweep?: ISweepSummary | null;
}

/** SweepSummary */
export interface ISweepSummary {
  name: string | null;
  metric: string | null;
  direction: 'minimize' | 'maximize' | null;
  /** Child runs (trials), as `listRuns(..., { parent })` lists them. */
  children: number;
  best_run_id: string | null;
  best_trial: number | null;
  best_value: number | null;
}

/** Changes: compare with the previous answer and reload only what moved. */
export interface IChanges {
  /** Token of the tenant's experiments list. */
  experiments: string;
  /** Experiment id -> token of its runs. */
  runs: Record<string, string>;
}

/** GET /experiments/{experiment_id}/runs */
export interface IRunList {
  runs: IRun[];
  next_page_token: string | null;
}

/** MetricPoint */
export interface IMetricPoint {
  key: string;
  value: number | null;
  step: number;
  timestamp: number;
}

/** GET /runs/{run_id}/metrics/{key} */
export interface IMetricHistory {
  run_id: string;
  key: string;
  history: IMetricPoint[];
}

/** GET /experiments/compare */
export interface ICompareResult {
  metrics: string[];
  runs: {
    run_id: string;
    run_name: string | null;
    status: string;
    parameters: Record<string, string>;
    metrics: Record<string, number | null>;
  }[];
}

/** Model stages, in lifecycle order. */
export type Stage = 'development' | 'staging' | 'production' | 'archived';

/** ModelMetadata */
export interface IModel {
  model_id: string;
  tenant_id: string;
  name: string;
  description: string;
  model_type: string;
  framework: string;
  current_version: string;
  production_version: string | null;
  versions: string[];
  stage: Stage | string;
  metrics: Record<string, number | null>;
  parameters: Record<string, unknown>;
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
  created_by: string;
  artifact_uri: string;
  run_id: string | null;
  aliases: Record<string, string>;
}

/** ModelVersionInfo */
export interface IModelVersion {
  model_id: string;
  version: string;
  stage: Stage | string;
  aliases: string[];
  run_id: string | null;
  metrics: Record<string, number | null>;
  parameters: Record<string, unknown>;
  framework: string;
  created_at: string;
  created_by: string;
  artifact_uri: string;
  description: string;
}

/** TransitionRecord */
export interface ITransition {
  version: string;
  from_stage: string | null;
  to_stage: string;
  user_id: string;
  timestamp: string;
  reason: string | null;
}

/** JSON error body of every failed call. */
export interface IErrorBody {
  status: number;
  error: string;
  message: string;
  field?: string;
  hint?: string;
}

/** A failed API call, carrying the server's JSON error when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Partial<IErrorBody>
  ) {
    super(ApiError.describe(status, body));
    this.name = 'ApiError';
  }

  /** One sentence for people: the server's message, the bad field and its hint. */
  static describe(status: number, body: Partial<IErrorBody>): string {
    const field = body.field ? `${body.field}: ` : '';
    const message = body.message ?? `HTTP ${status}`;
    const hint = body.hint ? ` ${body.hint}` : '';
    return `${field}${message}${hint}`;
  }
}

type Query = Record<
  string,
  string | number | boolean | string[] | undefined | null
>;

/** Request header that selects one of the caller's allowed tenants (never trusted beyond). */
export const TENANT_HEADER = 'X-Tenant-ID';

/** Typed client of the matih REST API. */
export class MatihClient {
  /** The tenant to ask for (one of `IWhoAmI.allowed_tenants`); null: the server's default. */
  tenant: string | null = null;

  constructor(
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** GET /whoami */
  whoami(): Promise<IWhoAmI> {
    return this.request('GET', ['whoami']);
  }

  /** GET /changes */
  changes(): Promise<IChanges> {
    // A poll is no user activity: it must not keep an idle server from being culled.
    return this.request('GET', ['changes'], {
      query: { no_track_activity: 1 }
    });
  }

  /** GET /experiments */
  async listExperiments(includeArchived = false): Promise<IExperiment[]> {
    const res = await this.request<{ experiments: IExperiment[] }>(
      'GET',
      ['experiments'],
      {
        query: { include_archived: includeArchived }
      }
    );
    return res.experiments;
  }

  /** GET /experiments/{experiment_id} */
  getExperiment(experimentId: string): Promise<IExperiment> {
    return this.request('GET', ['experiments', experimentId]);
  }

  /** GET /experiments/{experiment_id}/runs */
  listRuns(
    experimentId: string,
    options: {
      filter?: string;
      orderBy?: string[];
      maxResults?: number;
      pageToken?: string;
      /** Only this run's children (a sweep's trials); else the top level, without trials. */
      parent?: string;
      /** Runs whose name contains this text (searched on the server, across all pages). */
      search?: string;
      /** Runs in this status only. */
      status?: RunStatus;
      /** List sweep trials at the top level too. */
      includeTrials?: boolean;
    } = {}
  ): Promise<IRunList> {
    return this.request('GET', ['experiments', experimentId, 'runs'], {
      query: {
        filter: options.filter,
        order_by: options.orderBy,
        max_results: options.maxResults,
        page_token: options.pageToken,
        parent: options.parent,
        search: options.search,
        status: options.status,
        include_trials: options.includeTrials
      }
    });
  }

  /** GET /experiments/compare */
  compareRuns(runIds: string[], metrics?: string[]): Promise<ICompareResult> {
    return this.request('GET', ['experiments', 'compare'], {
      query: { run_ids: runIds.join(','), metrics: metrics?.join(',') }
    });
  }

  /** GET /runs/{run_id} */
  getRun(runId: string): Promise<IRun> {
    return this.request('GET', ['runs', runId]);
  }

  /** GET /runs/{run_id}/metrics/{key} */
  async metricHistory(runId: string, key: string): Promise<IMetricPoint[]> {
    // Keys may hold '/' (train/loss): the server route accepts it unescaped.
    const res = await this.request<IMetricHistory>('GET', [
      'runs',
      runId,
      'metrics',
      ...key.split('/')
    ]);
    return res.history;
  }

  /** GET /models */
  async listModels(
    filter: { stage?: string; framework?: string } = {}
  ): Promise<IModel[]> {
    const res = await this.request<{ models: IModel[] }>('GET', ['models'], {
      query: filter
    });
    return res.models;
  }

  /** GET /models/{model_id} */
  getModel(modelId: string): Promise<IModel> {
    return this.request('GET', ['models', modelId]);
  }

  /** GET /models/{model_id}/versions */
  async listVersions(modelId: string): Promise<IModelVersion[]> {
    const res = await this.request<{ versions: IModelVersion[] }>('GET', [
      'models',
      modelId,
      'versions'
    ]);
    return res.versions;
  }

  /** GET /models/{model_id}/history */
  async history(modelId: string): Promise<ITransition[]> {
    const res = await this.request<{ history: ITransition[] }>('GET', [
      'models',
      modelId,
      'history'
    ]);
    return res.history;
  }

  /** PUT /models/{model_id}/stage */
  transitionStage(
    modelId: string,
    version: string,
    stage: Stage,
    reason?: string
  ): Promise<unknown> {
    return this.request('PUT', ['models', modelId, 'stage'], {
      body: { version, stage, reason: reason || null }
    });
  }

  /** POST /models/{model_id}/rollback */
  rollback(modelId: string, reason?: string): Promise<unknown> {
    return this.request('POST', ['models', modelId, 'rollback'], {
      body: { reason: reason || null }
    });
  }

  /** PUT /models/{model_id}/aliases/{alias} */
  setAlias(modelId: string, alias: string, version: string): Promise<IModel> {
    return this.request('PUT', ['models', modelId, 'aliases', alias], {
      body: { version }
    });
  }

  /** DELETE /models/{model_id}/aliases/{alias} */
  deleteAlias(modelId: string, alias: string): Promise<IModel> {
    return this.request('DELETE', ['models', modelId, 'aliases', alias]);
  }

  /** The URL of a route (exposed for links and tests). */
  url(parts: string[], query: Query = {}): string {
    const path = URLExt.join(
      this.serverSettings.baseUrl,
      API_PREFIX,
      ...parts.map(p => encodeURIComponent(p))
    );
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') {
        continue;
      }
      if (Array.isArray(value)) {
        value.forEach(v => params.append(name, v));
      } else {
        params.append(name, String(value));
      }
    }
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  }

  /** One call of the REST API (the approvals client builds on it). */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    parts: string[],
    options: { query?: Query; body?: unknown } = {}
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.tenant) {
      headers[TENANT_HEADER] = this.tenant;
    }
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        this.url(parts, options.query),
        init,
        this.serverSettings
      );
    } catch (error) {
      throw new ApiError(0, {
        message: `The Jupyter server could not be reached (${String(error)}).`,
        hint: 'Check that JupyterLab is still running.'
      });
    }
    const text = await response.text();
    let data: any = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { message: text.slice(0, 200) };
      }
    }
    if (!response.ok) {
      if (response.status === 404 && !(data && data.error)) {
        // Tornado's own 404: the route itself is missing, i.e. the server extension is off.
        throw new ApiError(404, {
          message:
            'The matih REST API is not available on this Jupyter server.',
          hint: 'Check `jupyter server extension list` shows matih_jupyter enabled.'
        });
      }
      throw new ApiError(response.status, data ?? {});
    }
    return data as T;
  }
}
