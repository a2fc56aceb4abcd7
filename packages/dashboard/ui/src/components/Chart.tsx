// A small line chart drawn as inline SVG: processed and failed messages per minute.
import type { JSX } from "preact";
import type { RatePoint } from "../api";

export interface Series {
  label: string;
  points: RatePoint[];
  /** CSS class of the line and its legend swatch. */
  kind: "processed" | "failed";
}

const W = 560;
const H = 150;
const PAD = { left: 40, right: 10, top: 10, bottom: 22 };

function clock(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

export function RateChart(props: { title: string; series: Series[]; now: number }): JSX.Element {
  const end = props.now;
  const start = end - 30 * 60_000;
  const max = Math.max(1, ...props.series.flatMap((s) => s.points.map((p) => p.n)));
  const x = (t: number): number =>
    PAD.left +
    ((Math.min(Math.max(t, start), end) - start) / (end - start)) * (W - PAD.left - PAD.right);
  const y = (n: number): number => H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <figure class="chart">
      <figcaption>
        {props.title}
        {props.series.map((s) => (
          <span key={s.kind} class={`legend ${s.kind}`}>
            {s.label}: {s.points.length ? s.points[s.points.length - 1]!.n : 0}/min ·{" "}
            {s.points.reduce((sum, p) => sum + p.n, 0)} in 30 min
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        {ticks.map((tick) => (
          <g key={tick}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text class="axis" x={PAD.left - 4} y={y(tick) + 4} text-anchor="end">
              {tick}
            </text>
          </g>
        ))}
        <text class="axis" x={PAD.left} y={H - 6}>
          {clock(start)}
        </text>
        <text class="axis" x={W - PAD.right} y={H - 6} text-anchor="end">
          {clock(end)}
        </text>
        {props.series.map((s) => {
          const points = [...s.points]
            .sort((a, b) => a.t - b.t)
            .filter((p) => p.t >= start - 60_000);
          if (points.length === 0) return null;
          const path = points.map((p) => `${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`).join(" ");
          return (
            <g key={s.kind} class={`series ${s.kind}`}>
              <polyline points={path} />
              {points.map((p) => (
                <circle key={p.t} cx={x(p.t)} cy={y(p.n)} r={2}>
                  <title>{`${clock(p.t)}: ${p.n} ${s.label.toLowerCase()}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
