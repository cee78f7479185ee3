// Nested JSON (hyper-parameters, platform, git) as an expandable tree: objects and lists fold, leaves
// show their value; the first two levels start open.
import { formatNumber } from "./chartData";
import { runsEn } from "./strings";

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === "number") return <span className="json-number">{formatNumber(value)}</span>;
  if (typeof value === "boolean") return <span className="json-bool">{String(value)}</span>;
  return <span className="json-string">{String(value)}</span>;
}

function Branch({ name, value, depth }: { name: string; value: unknown; depth: number }) {
  if (value === null || typeof value !== "object") {
    return (
      <li className="json-leaf">
        <span className="json-key">{name}</span>: <Leaf value={value} />
      </li>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return (
    <li>
      <details open={depth < 2}>
        <summary>
          <span className="json-key">{name}</span>{" "}
          <span className="muted">{Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</span>
        </summary>
        <ul className="json-tree">
          {entries.map(([k, v]) => (
            <Branch key={k} name={k} value={v} depth={depth + 1} />
          ))}
        </ul>
      </details>
    </li>
  );
}

export function JsonTree({ value, what }: { value: unknown; what: string }) {
  const empty =
    value === null ||
    value === undefined ||
    (typeof value === "object" && Object.keys(value as object).length === 0);
  if (empty) return <p className="muted">{runsEn.run.empty(what)}</p>;
  if (typeof value !== "object") return <Leaf value={value} />;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as object);
  return (
    <ul className="json-tree json-root">
      {entries.map(([k, v]) => (
        <Branch key={k} name={k} value={v} depth={0} />
      ))}
    </ul>
  );
}
