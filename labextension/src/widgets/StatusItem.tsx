import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { SessionModel } from '../model';
import { useSignal } from './useModel';

function TenantText(props: { session: SessionModel }): JSX.Element {
  useSignal(props.session.whoamiChanged);
  const who = props.session.whoami;
  return (
    <span
      className="matih-status-tenant"
      title={who ? `${who.user} on ${who.store}` : ''}
    >
      Tenant: {who ? who.tenant_id : '…'}
    </span>
  );
}

/** Status-bar item: the current tenant (click opens the Experiments panel). */
export class TenantStatus extends ReactWidget {
  constructor(
    private readonly _session: SessionModel,
    private readonly _onClick: () => void
  ) {
    super();
    this.addClass('jp-StatusBar-TextItem');
    this.addClass('matih-status-item');
    this.node.addEventListener('click', () => this._onClick());
  }

  render(): JSX.Element {
    return <TenantText session={this._session} />;
  }
}
