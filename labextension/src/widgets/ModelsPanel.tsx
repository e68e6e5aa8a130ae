import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import React from 'react';

import { IModelVersion, Stage } from '../api';
import { allowedMoves, formatMetric, formatTime, moveLabel } from '../logic';
import { IGovernedTransition } from '../approvals';
import { ModelsModel } from '../model';
import { SessionHeader } from './Header';
import { RequestsSection } from './RequestsSection';
import { useSignal } from './useModel';

/** Dialog body: what is about to happen and a reason, kept in the transition history. */
class ReasonBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(message: string) {
    super();
    this.addClass('matih-reason-body');
    const p = document.createElement('p');
    p.textContent = message;
    const label = document.createElement('label');
    label.textContent = 'Reason (kept in the transition history)';
    this._input = document.createElement('textarea');
    this._input.className = 'matih-reason jp-mod-styled';
    this._input.rows = 3;
    this._input.placeholder = 'Why this change?';
    label.appendChild(this._input);
    this.node.append(p, label);
  }

  getValue(): string {
    return this._input.value.trim();
  }

  protected onAfterAttach(): void {
    this._input.focus();
  }

  private _input: HTMLTextAreaElement;
}

/** Ask for confirmation and a reason; `null` when cancelled. */
export async function confirmWithReason(
  title: string,
  message: string,
  action: string,
  destructive = false
): Promise<string | null> {
  const result = await showDialog({
    title,
    body: new ReasonBody(message),
    buttons: [
      Dialog.cancelButton(),
      destructive
        ? Dialog.warnButton({ label: action })
        : Dialog.okButton({ label: action })
    ],
    focusNodeSelector: 'textarea'
  });
  return result.button.accept ? (result.value ?? '') : null;
}

function StageBadge(props: { stage: string }): JSX.Element {
  return (
    <span className={`matih-badge matih-stage-${props.stage}`}>
      {props.stage}
    </span>
  );
}

function VersionRow(props: {
  model: ModelsModel;
  version: IModelVersion;
  onOpenRun: (runId: string) => void;
}): JSX.Element {
  const { model, version: v } = props;
  const name = model.selectedModel?.name ?? '';
  const move = async (target: string) => {
    const reason = await confirmWithReason(
      `${moveLabel(v.stage, target)}: ${name} v${v.version}`,
      `Move ${name} version ${v.version} from ${v.stage} to ${target}.` +
        (target === 'production'
          ? ' The current production version, if any, is archived.'
          : ''),
      moveLabel(v.stage, target),
      target === 'archived'
    );
    if (reason !== null) {
      await model.transition(v.version, target as Stage, reason);
    }
  };
  const metrics = Object.entries(v.metrics).slice(0, 3);
  return (
    <li className="matih-version" data-version={v.version} data-stage={v.stage}>
      <div className="matih-version-head">
        <span className="matih-name">v{v.version}</span>
        <StageBadge stage={v.stage} />
        {v.aliases.map(a => (
          <span key={a} className="matih-alias" title="Alias">
            @{a}
          </span>
        ))}
        {v.run_id ? (
          <a
            className="matih-run-link"
            href="#"
            title={`Open run ${v.run_id} in the Experiments panel`}
            onClick={e => {
              e.preventDefault();
              props.onOpenRun(v.run_id as string);
            }}
          >
            run {v.run_id.slice(0, 8)}
          </a>
        ) : null}
      </div>
      {metrics.length > 0 && (
        <div className="matih-version-metrics">
          {metrics.map(([k, val]) => (
            <span key={k}>
              {k}={formatMetric(val)}
            </span>
          ))}
        </div>
      )}
      <div className="matih-actions">
        {allowedMoves(v.stage).map(target => (
          <button
            key={target}
            className={`jp-Button jp-mod-styled matih-move matih-move-${target}`}
            data-target={target}
            onClick={() => void move(target)}
          >
            {moveLabel(v.stage, target)}
          </button>
        ))}
      </div>
    </li>
  );
}

/** The notebook that shows registering and promoting models, step by step. */
export const TUTORIAL = 'notebooks/03_compare_and_promote.ipynb';

/** How to open the tutorial notebook; null when this Jupyter's folder lacks it. */
export type OpenTutorial = (() => void) | null;

/** What an empty Models panel says: how models get here, and where to learn more. */
function RegisterHint(props: {
  tenant: string;
  tutorial: OpenTutorial;
}): JSX.Element {
  const open = props.tutorial;
  return (
    <div className="matih-register-hint">
      <div className="matih-empty">
        No registered models for this tenant yet.
      </div>
      <p>Register one from a notebook, after training it:</p>
      <pre className="matih-code">
        {[
          'from matih_jupyter import (',
          '    ModelRegistry)',
          'registry = ModelRegistry(tracker)',
          'registry.register_model(',
          `    "${props.tenant}", "my-model",`,
          '    model, "sklearn",',
          '    metrics={"val_auc": 0.91},',
          '    parameters={"depth": 5},',
          '    run_id=run.run_id)'
        ].join('\n')}
      </pre>
      <p>
        or, after a sweep, <code>sweep.register_best("my-model")</code>. It then
        shows here in stage development, ready to promote.
      </p>
      <p>
        Notebook{' '}
        {open ? (
          <a
            className="matih-tutorial-link"
            href="#"
            title={`Open ${TUTORIAL}`}
            onClick={e => {
              e.preventDefault();
              open();
            }}
          >
            {TUTORIAL}
          </a>
        ) : (
          <code className="matih-tutorial-path">{TUTORIAL}</code>
        )}{' '}
        walks through registering, promoting and rolling back.
      </p>
    </div>
  );
}

function ModelsView(props: {
  model: ModelsModel;
  onOpenRun: (runId: string) => void;
  tutorial: OpenTutorial;
}) {
  const { model } = props;
  useSignal(model.changed);
  useSignal(model.session.whoamiChanged);
  const selected = model.selectedModel;
  const hasProduction = model.versions.some(v => v.stage === 'production');
  const rollback = async () => {
    if (!selected) {
      return;
    }
    const reason = await confirmWithReason(
      `Roll back ${selected.name}`,
      `Restore the previous production version of ${selected.name}; the current one leaves production.`,
      'Roll back',
      true
    );
    if (reason !== null) {
      await model.rollback(reason);
    }
  };
  return (
    <div className="matih-panel">
      <SessionHeader
        session={model.session}
        title="Models"
        onRefresh={() => void model.refresh()}
      />
      <ul className="matih-list matih-models">
        {model.models.map(m => (
          <li
            key={m.model_id}
            data-model-id={m.model_id}
            className={
              selected?.model_id === m.model_id ? 'matih-selected' : ''
            }
            onClick={() =>
              void model.selectModel(
                selected?.model_id === m.model_id ? null : m.model_id
              )
            }
          >
            <span className="matih-name">{m.name}</span>
            <span className="matih-model-meta">
              v{m.current_version} <StageBadge stage={m.stage} /> {m.framework}
              {Object.keys(m.aliases).map(a => (
                <span key={a} className="matih-alias">
                  @{a}
                </span>
              ))}
            </span>
          </li>
        ))}
      </ul>
      {model.models.length === 0 && (
        <RegisterHint
          tenant={model.session.whoami?.tenant_id ?? 'TENANT'}
          tutorial={props.tutorial}
        />
      )}
      {selected && (
        <div className="matih-model-detail">
          <div className="matih-section-title">
            <h3>Versions of {selected.name}</h3>
            {hasProduction && (
              <button
                className="jp-Button jp-mod-styled matih-rollback"
                onClick={() => void rollback()}
              >
                Roll back
              </button>
            )}
          </div>
          <ul className="matih-versions">
            {model.versions.map(v => (
              <VersionRow
                key={v.version}
                model={model}
                version={v}
                onOpenRun={props.onOpenRun}
              />
            ))}
          </ul>
          <RequestsSection model={model} ask={confirmWithReason} />
          <h4>Transition history</h4>
          {model.history.length === 0 ? (
            <div className="matih-empty">No transitions yet.</div>
          ) : (
            <ol className="matih-history">
              {[...model.history].reverse().map((t, i) => (
                <li key={i} data-version={t.version}>
                  <span className="matih-when">{formatTime(t.timestamp)}</span>{' '}
                  v{t.version} {t.from_stage ?? '∅'} →{' '}
                  <StageBadge stage={t.to_stage} /> by {t.user_id}
                  {(t as IGovernedTransition).approved_by ? (
                    <span className="matih-approved">
                      , approved by {(t as IGovernedTransition).approved_by}
                    </span>
                  ) : null}
                  {t.reason ? (
                    <span className="matih-why">: {t.reason}</span>
                  ) : null}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  );
}

/** The left-sidebar Models panel. */
export class ModelsPanel extends ReactWidget {
  constructor(
    readonly model: ModelsModel,
    private readonly _openRun: (runId: string) => void
  ) {
    super();
    this.id = 'matih-models';
    this.addClass('matih-sidebar');
  }

  /** How to open the tutorial notebook (set once its presence is known). */
  set tutorial(open: OpenTutorial) {
    this._tutorial = open;
    this.update();
  }

  render(): JSX.Element {
    return (
      <ModelsView
        model={this.model}
        onOpenRun={this._openRun}
        tutorial={this._tutorial}
      />
    );
  }

  private _tutorial: OpenTutorial = null;
}
