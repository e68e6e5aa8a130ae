import React, { useEffect, useRef } from 'react';

import { IMetricPoint, IRun } from '../api';
import { MetricChart } from '../chart/MetricChart';
import { IPointsChunk } from '../chart/series';

/** The chart's element, with the chart on it (for tests, as in the notebook widget). */
type ChartHost = HTMLDivElement & { matihChart?: MetricChart };

/** Metric histories of several runs overlaid, drawn by the same chart as the notebook
 * widgets (hover, zoom, smoothing, log scale, legend toggles). */
export function CompareChart(props: {
  metric: string;
  runs: IRun[];
  histories: Record<string, IMetricPoint[]>;
}): JSX.Element {
  const host = useRef<ChartHost>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) {
      return;
    }
    const chart = new MetricChart(el, {
      layout: 'overlay',
      layoutControl: false,
      height: 160
    });
    el.matihChart = chart;
    return () => {
      chart.destroy();
      delete el.matihChart;
    };
  }, []);
  useEffect(() => {
    const chart = host.current?.matihChart;
    if (!chart) {
      return;
    }
    chart.clear();
    chart.set({ metrics: [props.metric] });
    chart.replace(chunks(props));
    if (!chart.store.pointCount()) {
      chart.setMessage(`No values of ${props.metric} to plot.`);
    } else {
      chart.setMessage('');
    }
  }, [props.metric, props.runs, props.histories]);
  return (
    <div
      className="matih-compare-chart"
      ref={host}
      aria-label={`${props.metric} by step`}
    />
  );
}

function chunks(props: {
  metric: string;
  runs: IRun[];
  histories: Record<string, IMetricPoint[]>;
}): IPointsChunk[] {
  return props.runs.map(r => {
    const points = [...(props.histories[r.id] ?? [])].sort(
      (a, b) => a.step - b.step || a.timestamp - b.timestamp
    );
    return {
      run: r.id,
      runLabel: r.name ?? r.id.slice(0, 8),
      metric: props.metric,
      steps: points.map(p => p.step),
      values: points.map(p => (p.value === null ? NaN : p.value)),
      times: points.map(p => p.timestamp)
    };
  });
}
