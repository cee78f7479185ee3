// A plotly figure, with plotly.js loaded only when the first one is shown (it is several MB; the
// portal's main bundle stays small).
import { useEffect, useRef, useState } from "react";
import type { Data, Layout } from "plotly.js-strict-dist-min";
import { ErrorState, Loading } from "../components";
import { runsEn } from "./strings";

type PlotlyModule = typeof import("plotly.js-strict-dist-min");
let loading: Promise<PlotlyModule> | null = null;

function loadPlotly(): Promise<PlotlyModule> {
  loading ??= import("plotly.js-strict-dist-min").catch((e: unknown) => {
    loading = null; // let a later chart try again
    throw e;
  });
  return loading;
}

export function PlotlyChart({ data, layout, label }: { data: Data[]; layout: Layout; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | Error>("loading");
  useEffect(() => {
    let live = true;
    const el = box.current;
    loadPlotly()
      .then(async (mod) => {
        const Plotly = (mod as unknown as { default?: PlotlyModule }).default ?? mod;
        if (!live || !el) return;
        await Plotly.react(el, data, { autosize: true, margin: { l: 60, r: 30, t: 30, b: 50 }, ...layout }, {
          responsive: true,
          displaylogo: false,
        });
        if (live) setState("ready");
      })
      .catch((e: unknown) => live && setState(e instanceof Error ? e : new Error(String(e))));
    return () => {
      live = false;
    };
  }, [data, layout]);
  useEffect(() => {
    const el = box.current;
    return () => {
      if (el) loadPlotly().then((mod) => ((mod as unknown as { default?: PlotlyModule }).default ?? mod).purge(el)).catch(() => undefined);
    };
  }, []);
  return (
    <figure className="plotly-figure" aria-label={label}>
      {state === "loading" && <Loading label={runsEn.compare.loadingPlots} />}
      {state instanceof Error && <ErrorState error={state} />}
      <div ref={box} className="plotly-box" data-ready={state === "ready" ? "1" : undefined} />
    </figure>
  );
}
