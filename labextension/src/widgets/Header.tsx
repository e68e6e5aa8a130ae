import React from 'react';

import { SessionModel } from '../model';
import { useSignal } from './useModel';

/** The tenant and the store in use, shown atop both panels. */
export function SessionHeader(props: {
  session: SessionModel;
  title: string;
  onRefresh: () => void;
  /** Shown beside the title (the Experiments panel's live badge). */
  badge?: JSX.Element;
}): JSX.Element {
  useSignal(props.session.whoamiChanged);
  const who = props.session.whoami;
  return (
    <div className="matih-header">
      <div className="matih-header-row">
        <h2 className="matih-title">{props.title}</h2>
        {props.badge}
        <button
          className="jp-Button jp-mod-minimal matih-refresh"
          title="Refresh"
          aria-label="Refresh"
          onClick={props.onRefresh}
        >
          ⟳
        </button>
      </div>
      <div className="matih-identity">
        {who && who.allowed_tenants.length > 1 ? (
          <select
            className="matih-tenant-select"
            aria-label="Tenant"
            title="Tenant (you may use several)"
            value={who.tenant_id}
            onChange={e => void props.session.selectTenant(e.target.value)}
          >
            {who.allowed_tenants.map(t => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        ) : (
          <span className="matih-tenant" title="Tenant">
            {who ? who.tenant_id : '…'}
          </span>
        )}
        <span
          className="matih-store"
          title={who ? `${who.user} on ${who.store}` : ''}
        >
          {who ? who.store : ''}
        </span>
      </div>
    </div>
  );
}
