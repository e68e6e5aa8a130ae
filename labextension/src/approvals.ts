/**
 * Client of governed promotion's routes: a model's approval requests and their decisions.
 * Mirrors `openapi.yaml` (checked by tests/labextension/test_approvals_contract.py).
 */
import { IModel, MatihClient, Stage } from './api';

/** GateResult */
export interface IGateResult {
  gate: string;
  where: string;
  passed: boolean;
  detail: string;
  fix: string;
}

/** ApprovalRequest */
export interface IApprovalRequest {
  id: string;
  model_id: string;
  kind: 'transition' | 'rollback';
  version: string;
  from_stage: string;
  to_stage: string;
  requested_by: string;
  requested_at: string;
  reason: string | null;
  gates: IGateResult[];
  production_version: string | null;
  status: 'pending' | 'approved' | 'rejected' | 'stale';
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
}

/** A transition record's governance fields, when the policy asked for them. */
export interface IGovernedTransition {
  approved_by?: string | null;
  gates?: string[];
}

/** Approval requests over the sidebar's client (its tenant header and errors). */
export class ApprovalsClient {
  constructor(readonly client: MatihClient) {}

  /** GET /models/{model_id}/requests */
  async listRequests(
    modelId: string,
    status: 'pending' | 'all' = 'pending'
  ): Promise<IApprovalRequest[]> {
    const res = await this.client.request<{ requests: IApprovalRequest[] }>(
      'GET',
      ['models', modelId, 'requests'],
      { query: { status } }
    );
    return res.requests;
  }

  /** POST /models/{model_id}/requests */
  requestTransition(
    modelId: string,
    version: string,
    stage: Stage,
    reason: string
  ): Promise<IApprovalRequest> {
    return this.client.request('POST', ['models', modelId, 'requests'], {
      body: { version, stage, reason: reason || null }
    });
  }

  /** POST /models/{model_id}/requests/{request_id}/approve */
  approve(modelId: string, requestId: string, reason: string): Promise<IModel> {
    return this.client.request(
      'POST',
      ['models', modelId, 'requests', requestId, 'approve'],
      { body: { reason: reason || null } }
    );
  }

  /** POST /models/{model_id}/requests/{request_id}/reject */
  reject(
    modelId: string,
    requestId: string,
    reason: string
  ): Promise<IApprovalRequest> {
    return this.client.request(
      'POST',
      ['models', modelId, 'requests', requestId, 'reject'],
      { body: { reason: reason || null } }
    );
  }
}
