import React from 'react';

import { IMetricPoint, IRun } from '../api';
import { extent, formatMetric, ISeries, SERIES_COLORS } from '../logic';

const W = 320;
const H = 180;
const PAD = { left: 48, right: 8, top: 8, bottom: 22 };

/** Metric histories of several runs overlaid in one SVG line chart. */
export function CompareChart(props: {
  metric: string;
  runs: IRun[];
  histories: Record<string, IMetricPoint[]>;
}): JSX.Element {
  const series: ISeries[] = props.runs.map(r => ({
    label: r.name ?? r.id.slice(0, 8),
    points: [...(props.histories[r.id] ?? [])].sort((a, b) => a.step - b.step)
  }));
  const box = extent(series);
  if (!box) {
    return (
      <div className="matih-empty">No values of {props.metric} to plot.</div>
    );
  }
  const x = (step: number) =>
    PAD.left +
    ((step - box.x0) / (box.x1 - box.x0)) * (W - PAD.left - PAD.right);
  const y = (v: number) =>
    H -
    PAD.bottom -
    ((v - box.y0) / (box.y1 - box.y0)) * (H - PAD.top - PAD.bottom);
  return (
    <div className="matih-chart">
      <svg
        className="matih-chart-svg"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.metric} by step`}
      >
        <line
          className="matih-axis"
          x1={PAD.left}
          y1={H - PAD.bottom}
          x2={W - PAD.right}
          y2={H - PAD.bottom}
        />
        <line
          className="matih-axis"
          x1={PAD.left}
          y1={PAD.top}
          x2={PAD.left}
          y2={H - PAD.bottom}
        />
        <text
          className="matih-tick"
          x={PAD.left - 4}
          y={PAD.top + 8}
          textAnchor="end"
        >
          {formatMetric(box.y1)}
        </text>
        <text
          className="matih-tick"
          x={PAD.left - 4}
          y={H - PAD.bottom}
          textAnchor="end"
        >
          {formatMetric(box.y0)}
        </text>
        <text className="matih-tick" x={PAD.left} y={H - 6} textAnchor="start">
          {formatMetric(box.x0)}
        </text>
        <text
          className="matih-tick"
          x={W - PAD.right}
          y={H - 6}
          textAnchor="end"
        >
          step {formatMetric(box.x1)}
        </text>
        {series.map((s, i) => {
          const pts = s.points.filter(
            p => p.value !== null && isFinite(p.value)
          );
          const color = SERIES_COLORS[i % SERIES_COLORS.length];
          const d = pts
            .map(
              (p, j) =>
                `${j === 0 ? 'M' : 'L'}${x(p.step).toFixed(1)},${y(p.value as number).toFixed(1)}`
            )
            .join(' ');
          return (
            <g
              key={props.runs[i].id}
              className="matih-series"
              data-run-id={props.runs[i].id}
            >
              {pts.length > 1 && (
                <path d={d} fill="none" stroke={color} strokeWidth={1.5} />
              )}
              {pts.map(p => (
                <circle
                  key={p.step}
                  cx={x(p.step)}
                  cy={y(p.value as number)}
                  r={pts.length > 40 ? 0 : 2}
                  fill={color}
                />
              ))}
            </g>
          );
        })}
      </svg>
      <ul className="matih-legend">
        {series.map((s, i) => (
          <li key={props.runs[i].id}>
            <span
              className="matih-swatch"
              style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }}
            />
            {s.label}
          </li>
        ))}
      </ul>
    </div>
  );
}
