import React, { useEffect, useState } from 'react';

import { ApprovalsClient, IApprovalRequest } from '../approvals';
import { formatTime } from '../logic';
import { ModelsModel } from '../model';

/** Asks for a reason (ModelsPanel's dialog); null when cancelled. */
export type AskReason = (
  title: string,
  message: string,
  action: string,
  destructive?: boolean
) => Promise<string | null>;

/** The selected model's pending approval requests, with approve and reject. */
export function RequestsSection(props: {
  model: ModelsModel;
  ask: AskReason;
}): JSX.Element | null {
  const { model, ask } = props;
  const [requests, setRequests] = useState<IApprovalRequest[]>([]);
  const [revision, setRevision] = useState(0);
  const modelId = model.selectedModel?.model_id ?? null;
  useEffect(() => {
    const bump = () => setRevision(r => r + 1);
    model.changed.connect(bump);
    return () => {
      model.changed.disconnect(bump);
    };
  }, [model]);
  useEffect(() => {
    let live = true;
    setRequests([]);
    if (modelId) {
      const client = new ApprovalsClient(model.session.client);
      void model.session
        .guard(() => client.listRequests(modelId), 'Listing approval requests')
        .then(found => {
          if (live && found) {
            setRequests(found);
          }
        });
    }
    return () => {
      live = false;
    };
  }, [model, modelId, revision]);
  if (!modelId || requests.length === 0) {
    return null;
  }
  const decide = async (r: IApprovalRequest, approve: boolean) => {
    const action = approve ? 'Approve' : 'Reject';
    const reason = await ask(
      `${action} request ${r.id}`,
      `${action} moving v${r.version} from ${r.from_stage} to ${r.to_stage}, ` +
        `requested by ${r.requested_by}.`,
      action,
      !approve
    );
    if (reason === null) {
      return;
    }
    const client = new ApprovalsClient(model.session.client);
    await model.session.guard<unknown>(
      () =>
        approve
          ? client.approve(modelId, r.id, reason)
          : client.reject(modelId, r.id, reason),
      `${action} request ${r.id}`
    );
    await model.refresh();
  };
  return (
    <div className="matih-requests">
      <h4>Pending approval requests</h4>
      <ul className="matih-request-list">
        {requests.map(r => (
          <li key={r.id} className="matih-request" data-request={r.id}>
            <div>
              v{r.version} {r.from_stage} → {r.to_stage} by {r.requested_by}{' '}
              <span className="matih-when">{formatTime(r.requested_at)}</span>
              {r.reason ? (
                <span className="matih-why">: {r.reason}</span>
              ) : null}
            </div>
            <ul className="matih-gates">
              {r.gates.map((g, i) => (
                <li key={i} className={g.passed ? 'matih-pass' : 'matih-fail'}>
                  {g.passed ? '✔' : '✘'} {g.gate} ({g.detail})
                </li>
              ))}
            </ul>
            <button
              className="jp-Button jp-mod-styled matih-approve"
              onClick={() => void decide(r, true)}
            >
              Approve
            </button>
            <button
              className="jp-Button jp-mod-styled matih-reject"
              onClick={() => void decide(r, false)}
            >
              Reject
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
