import type { AnyModel } from '@anywidget/types';

import { MetricChart } from '../chart/MetricChart';
import { IViewSettings } from '../chart/controls';
import { IPointsChunk } from '../chart/series';

/** The widget's synced state (set by the kernel; saved with the notebook, never secrets). */
export interface ILiveState {
  metrics: string[];
  runs: string[];
  step_label: string;
  x: IViewSettings['x'];
  smoothing: number;
  log_scale: boolean;
  arrangement: IViewSettings['layout'];
  goals: Record<string, 'min' | 'max'>;
  height: number;
  status: string;
  error: string;
}

/** Points from the kernel: one entry per curve; its steps, values and wall times (ms) are
 * three float64 buffers each, in the entries' order. `replace` says the entry holds the
 * whole curve again (a new view, a zoom, a point that arrived out of order). */
interface IPointsMessage {
  type: 'points';
  series: {
    run: string;
    run_label: string;
    metric: string;
    n: number;
    replace: boolean;
  }[];
}

/** Decode a points message into chunks. */
export function decodePoints(
  msg: IPointsMessage,
  buffers: DataView[]
): IPointsChunk[] {
  return msg.series.map((s, i) => {
    const column = (k: number) => {
      const dv = buffers[3 * i + k];
      return new Float64Array(dv.buffer, dv.byteOffset, dv.byteLength / 8);
    };
    return {
      run: s.run,
      runLabel: s.run_label,
      metric: s.metric,
      steps: column(0),
      values: column(1),
      times: column(2)
    };
  });
}

/** Render the live chart into `el`, following the kernel's stream; returns the cleanup. */
export function renderLive(
  model: AnyModel<ILiveState>,
  el: HTMLElement
): () => void {
  el.classList.add('matih-live-widget');
  const chart = new MetricChart(el, {
    ...settingsOf(model),
    onSettings: s => {
      if (s.x !== undefined) {
        model.set('x', s.x);
      }
      if (s.smoothing !== undefined) {
        model.set('smoothing', s.smoothing);
      }
      if (s.logScale !== undefined) {
        model.set('log_scale', s.logScale);
      }
      if (s.layout !== undefined) {
        model.set('arrangement', s.layout);
      }
      model.save_changes();
    },
    onZoom: (min, max, width) =>
      model.send({ type: 'zoom', min, max, width, x: chart.settings.x })
  });
  (el as HTMLElement & { matihChart?: MetricChart }).matihChart = chart;
  const showStatus = () => {
    const error = model.get('error');
    chart.setMessage(error || model.get('status'), error ? 'error' : 'info');
  };
  const onSettings = () => chart.set(settingsOf(model));
  const onMessage = (msg: unknown, buffers: DataView[]) => {
    const m = msg as IPointsMessage;
    if (m?.type !== 'points') {
      return;
    }
    const chunks = decodePoints(m, buffers);
    chart.replace(chunks.filter((_, i) => m.series[i].replace));
    chart.append(chunks.filter((_, i) => !m.series[i].replace));
    noteLatency(chart, chunks);
  };
  const keys = [
    'metrics',
    'runs',
    'step_label',
    'x',
    'smoothing',
    'log_scale',
    'arrangement',
    'goals',
    'height'
  ];
  keys.forEach(k => model.on(`change:${k}`, onSettings));
  model.on('change:status', showStatus);
  model.on('change:error', showStatus);
  model.on('msg:custom', onMessage);
  showStatus();
  model.send({ type: 'ready', width: chart.root.clientWidth || 480 });
  return () => {
    keys.forEach(k => model.off(`change:${k}`, onSettings));
    model.off('change:status', showStatus);
    model.off('change:error', showStatus);
    model.off('msg:custom', onMessage);
    chart.destroy();
  };
}

function settingsOf(model: AnyModel<ILiveState>) {
  return {
    metrics: model.get('metrics')?.length ? model.get('metrics') : null,
    runs: model.get('runs')?.length ? model.get('runs') : null,
    stepLabel: model.get('step_label') || 'step',
    x: model.get('x'),
    smoothing: model.get('smoothing'),
    logScale: model.get('log_scale'),
    layout: model.get('arrangement'),
    goals: model.get('goals') ?? {},
    height: model.get('height') || 200
  };
}

/** How long the newest point took from its `log_metric` call to arriving here (same
 * machine clock), kept on the chart's element for tests and benchmarks. */
function noteLatency(chart: MetricChart, chunks: IPointsChunk[]): void {
  let newest = 0;
  chunks.forEach(c => {
    if (c.times.length) {
      newest = Math.max(newest, c.times[c.times.length - 1]);
    }
  });
  if (newest > 0) {
    chart.root.dataset.arrivalLatencyMs = String(Date.now() - newest);
  }
}
