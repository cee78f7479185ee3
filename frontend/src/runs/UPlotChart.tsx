// A uPlot chart sized to its container: drag to zoom along x, double-click to reset (uPlot's own
// behaviour), an optional min/max band, log scale. It redraws when the data or the options change and
// reports its first draw (for the "time to first chart" measure).
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Cell } from "./chartData";
import { runsEn } from "./strings";

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

export interface ChartSeries {
  label: string;
  color: string;
  /** The raw curve behind a smoothed one: thin and translucent. */
  faded?: boolean;
  /** Too few points for a line: drawn as dots. */
  dots?: boolean;
}

interface Props {
  /** [x, y1, y2, ...] (and with `band`, the last two arrays are the band's low and high edges of y1). */
  data: Cell[][];
  series: ChartSeries[];
  band?: boolean;
  log?: boolean;
  timeAxis?: boolean;
  xLabel: string;
  height?: number;
  onFirstDraw?: () => void;
  /** Draw uPlot's legend (off for many runs: the page shows one shared legend instead). */
  legend?: boolean;
}

export function UPlotChart({ data, series, band, log, timeAxis, xLabel, height = 240, onFirstDraw, legend = true }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const drawn = useRef(false);
  const firstDraw = useRef(onFirstDraw);
  firstDraw.current = onFirstDraw;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const bandSeries: uPlot.Series[] = band
      ? [
          { label: runsEn.metrics.bandMin, stroke: "transparent", points: { show: false }, width: 0 },
          { label: runsEn.metrics.bandMax, stroke: "transparent", points: { show: false }, width: 0 },
        ]
      : [];
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: !!timeAxis }, y: { distr: log ? 3 : 1 } },
      axes: [{ label: xLabel, labelSize: 20 }, {}],
      cursor: { drag: { x: true, y: false } },
      legend: { show: legend },
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.faded ? `${s.color}40` : s.color,
          width: s.faded ? 1 : 1.5,
          spanGaps: false,
          points: s.dots ? { show: true, size: 7, fill: s.color } : { show: false },
        })),
        ...bandSeries,
      ],
      bands: band ? [{ series: [series.length + 2, series.length + 1], fill: "rgba(37, 99, 235, 0.15)" }] : undefined,
      hooks: {
        draw: [
          () => {
            if (!drawn.current) {
              drawn.current = true;
              firstDraw.current?.();
            }
          },
        ],
      },
    };
    const chart = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (Math.abs(width - chart.width) > 2) chart.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [data, series, band, log, timeAxis, xLabel, height, legend]);

  return <div className="uplot-box" ref={box} />;
}
