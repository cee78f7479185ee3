// One trial: its parameters, its intermediate values as a chart, and "promote to a run" (a run beside
// the search with the trial's parameters, times and values, linked to the search in lineage).
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { ErrorState, FormError, Loading } from "../components";
import { useApi } from "../components/useApi";
import { formatNumber } from "../runs/chartData";
import { UPlotChart, PALETTE } from "../runs/UPlotChart";
import { getTrial, promoteTrial, type Search } from "./api";
import { autotuneEn as t } from "./strings";
import { flattenParams } from "./trialStats";

export function TrialDetailCard({ search, number, onClose }: { search: Search; number: number; onClose: () => void }) {
  const trial = useApi((signal) => getTrial(search.id, number, signal), [search.id, number]);
  const [name, setName] = useState("");
  const [promoted, setPromoted] = useState<{ id: string; name: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const metric = search.profile.objective.metric || "value";
  const series = useMemo(() => [{ label: metric, color: PALETTE[0] }], [metric]);
  const data = useMemo(() => (trial.data ? [trial.data.steps, trial.data.values] : []), [trial.data]);

  const promote = async () => {
    setBusy(true);
    setError(null);
    try {
      setPromoted(await promoteTrial(search.id, number, name.trim() || undefined));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card trial-detail" aria-label={t.trial(number)} data-testid="trial-detail">
      <div className="card-title">
        <h3>{t.trial(number)}</h3>
        <button type="button" onClick={onClose}>
          ×
        </button>
      </div>
      {trial.error ? (
        <ErrorState error={trial.error} onRetry={trial.reload} />
      ) : !trial.data ? (
        <Loading />
      ) : (
        <div className="trial-body">
          <div>
            <h4>{t.parameters}</h4>
            <dl className="facts trial-params">
              {Object.entries(flattenParams(trial.data.params)).map(([key, value]) => (
                <div key={key} className="contents">
                  <dt>{key}</dt>
                  <dd>{typeof value === "number" ? formatNumber(value) : String(value)}</dd>
                </div>
              ))}
              <dt>{metric}</dt>
              <dd>{trial.data.value === null ? "—" : formatNumber(trial.data.value)}</dd>
              <dt>{t.status}</dt>
              <dd>{trial.data.status}</dd>
            </dl>
            <div className="inline-form">
              <label>
                {t.promoteName}
                <input value={name} onChange={(e) => setName(e.target.value)} />
              </label>
              <button type="button" onClick={promote} disabled={busy}>
                {t.promote}
              </button>
            </div>
            {promoted && (
              <p className="notice" role="status">
                {t.promoted} <Link to={`/runs/${promoted.id}`}>{promoted.name}</Link>
              </p>
            )}
            <FormError error={error} />
          </div>
          <div>
            <h4>{t.intermediate}</h4>
            {trial.data.steps.length === 0 ? (
              <p className="muted">{t.noIntermediate}</p>
            ) : (
              <UPlotChart data={data} series={series} xLabel={t.step} height={200} />
            )}
          </div>
        </div>
      )}
    </section>
  );
}
