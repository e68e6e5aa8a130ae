import { XMode } from './align';

/** The settings a person changes from the chart's own controls. */
export interface IViewSettings {
  x: XMode;
  smoothing: number;
  logScale: boolean;
  layout: 'panels' | 'overlay';
}

/** The control bar: smoothing, log scale, x axis, layout and zoom reset; native controls,
 * so each is reachable and operable from the keyboard. */
export class Controls {
  readonly el: HTMLDivElement;
  private smoothing: HTMLInputElement;
  private smoothingText: HTMLOutputElement;
  private log: HTMLInputElement;
  private x: HTMLSelectElement;
  private layout: HTMLSelectElement;

  constructor(
    settings: IViewSettings,
    onChange: (s: Partial<IViewSettings>) => void,
    onResetZoom: () => void,
    showLayout = true
  ) {
    this.el = document.createElement('div');
    this.el.className = 'matih-chart-controls';
    this.smoothing = input('range', { min: '0', max: '0.99', step: '0.01' });
    this.smoothing.setAttribute('aria-label', 'smoothing');
    this.smoothingText = document.createElement('output');
    this.smoothing.addEventListener('input', () => {
      const value = Number(this.smoothing.value);
      this.smoothingText.value = value.toFixed(2);
      onChange({ smoothing: value });
    });
    this.log = input('checkbox', {});
    this.log.addEventListener('change', () =>
      onChange({ logScale: this.log.checked })
    );
    this.x = select([
      ['step', 'step'],
      ['time', 'wall time'],
      ['relative', 'relative time']
    ]);
    this.x.addEventListener('change', () =>
      onChange({ x: this.x.value as XMode })
    );
    this.layout = select([
      ['panels', 'one panel per metric'],
      ['overlay', 'metrics overlaid']
    ]);
    this.layout.addEventListener('change', () =>
      onChange({ layout: this.layout.value as IViewSettings['layout'] })
    );
    const reset = document.createElement('button');
    reset.type = 'button';
    reset.textContent = 'reset zoom';
    reset.title =
      'Show every point again (double-click the chart does the same)';
    reset.addEventListener('click', onResetZoom);
    this.el.append(
      labelled('smoothing', this.smoothing, this.smoothingText),
      labelled('log scale', this.log),
      labelled('x', this.x),
      ...(showLayout ? [labelled('layout', this.layout)] : []),
      reset
    );
    this.show(settings);
  }

  show(s: IViewSettings): void {
    this.smoothing.value = String(s.smoothing);
    this.smoothingText.value = s.smoothing.toFixed(2);
    this.log.checked = s.logScale;
    this.x.value = s.x;
    this.layout.value = s.layout;
  }
}

/** One toggle button per legend entry; pressed means shown. */
export class Legend {
  readonly el: HTMLDivElement;

  constructor(private onToggle: (key: string) => void) {
    this.el = document.createElement('div');
    this.el.className = 'matih-chart-legend';
    this.el.setAttribute('role', 'group');
    this.el.setAttribute('aria-label', 'curves');
  }

  show(
    entries: { key: string; label: string; color: string; shown: boolean }[]
  ): void {
    this.el.replaceChildren(
      ...entries.map(e => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'matih-chart-legend-entry';
        b.dataset.key = e.key;
        b.setAttribute('aria-pressed', String(e.shown));
        b.title = e.shown ? `Hide ${e.label}` : `Show ${e.label}`;
        const swatch = document.createElement('span');
        swatch.className = 'matih-chart-swatch';
        swatch.style.background = e.color;
        b.append(swatch, document.createTextNode(e.label));
        b.addEventListener('click', () => this.onToggle(e.key));
        return b;
      })
    );
  }
}

function input(type: string, attrs: Record<string, string>): HTMLInputElement {
  const el = document.createElement('input');
  el.type = type;
  Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
  return el;
}

function select(options: [string, string][]): HTMLSelectElement {
  const el = document.createElement('select');
  for (const [value, text] of options) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    el.append(o);
  }
  return el;
}

function labelled(text: string, ...controls: HTMLElement[]): HTMLLabelElement {
  const label = document.createElement('label');
  label.append(document.createTextNode(`${text} `), ...controls);
  return label;
}
