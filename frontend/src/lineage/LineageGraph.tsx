// The data-flow graph drawn as SVG: runs as squares, data as circles, edges left to right as dagre
// laid them out. Drag to pan, wheel or buttons to zoom; each node is a link (click to open) and, while
// its neighbours are not all shown, carries a + button that asks for them.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type PointerEvent, type WheelEvent } from "react";
import { useNavigate } from "react-router-dom";
import { SHAPE, layoutInput, lineageNodeHref, nodeLabel, shapeOf, shortLabel, type FlowGraph } from "./graphModel";
import { place, type Point } from "./layout";
import { lineageEn } from "./strings";

interface View {
  x: number;
  y: number;
  k: number;
}

const MIN_K = 0.15;
const MAX_K = 3;
/** The first view is never smaller than this, so labels can be read; the rest is a drag away. */
const READABLE_K = 0.85;

const path = (points: Point[]) => points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");

interface Props {
  graph: FlowGraph;
  onExpand: (key: string) => void;
  /** The node being expanded now (its + spins). */
  busy: string | null;
  /** Called once the graph is on screen (after the browser painted it). */
  onDrawn?: () => void;
}

export function LineageGraph({ graph, onExpand, busy, onDrawn }: Props) {
  const navigate = useNavigate();
  const box = useRef<HTMLDivElement>(null);
  const placed = useMemo(() => place(layoutInput(graph)), [graph]);
  const [view, setView] = useState<View | null>(null);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<string | null>(null);
  const drag = useRef<{ x: number; y: number; view: View; moved: boolean } | null>(null);
  const drawn = useRef(onDrawn);
  drawn.current = onDrawn;

  const fit = (readable: boolean) => {
    const el = box.current;
    if (!el) return;
    const w = el.clientWidth || 800;
    const h = el.clientHeight || 500;
    let k = Math.min(MAX_K, w / Math.max(placed.width, 1), h / Math.max(placed.height, 1), 1.4);
    const root = placed.nodes.get(graph.root);
    if (readable && k < READABLE_K && root) {
      k = READABLE_K;
      setView({ k, x: w / 2 - root.x * k, y: h / 2 - root.y * k });
      return;
    }
    k = Math.max(MIN_K, k);
    setView({ k, x: (w - placed.width * k) / 2, y: (h - placed.height * k) / 2 });
  };

  // A new layout keeps the reader's view once there is one; the first one is fitted.
  useLayoutEffect(() => {
    if (view === null) fit(true);
  }, [placed]); // `fit` reads the newest layout: only a new layout may refit

  useEffect(() => {
    if (view === null) return;
    const frame = requestAnimationFrame(() => drawn.current?.());
    return () => cancelAnimationFrame(frame);
  }, [placed, view === null]); // once per layout, after its first view is set

  const zoom = (factor: number, cx?: number, cy?: number) =>
    setView((v) => {
      if (!v) return v;
      const el = box.current;
      const px = cx ?? (el?.clientWidth ?? 0) / 2;
      const py = cy ?? (el?.clientHeight ?? 0) / 2;
      const k = Math.min(MAX_K, Math.max(MIN_K, v.k * factor));
      return { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
    });

  /** Centre the first node whose label holds the text, at a readable scale, and mark it. */
  const find = (e: FormEvent) => {
    e.preventDefault();
    const text = query.trim().toLowerCase();
    const hit = text ? [...graph.nodes.values()].find((n) => nodeLabel(n).toLowerCase().includes(text) || n.path.toLowerCase().includes(text)) : undefined;
    const at = hit && placed.nodes.get(hit.key);
    const el = box.current;
    setFound(hit ? hit.key : null);
    if (!at || !el) return;
    const k = Math.max(view?.k ?? 1, 1);
    setView({ k, x: el.clientWidth / 2 - at.x * k, y: el.clientHeight / 2 - at.y * k });
  };

  const onWheel = (e: WheelEvent) => {
    const rect = box.current!.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - rect.left, e.clientY - rect.top);
  };
  const onPointerDown = (e: PointerEvent) => {
    if (!view || (e.target as Element).closest("a, [role=button]")) return;
    drag.current = { x: e.clientX, y: e.clientY, view, moved: false };
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d) return;
    d.moved = true;
    setView({ ...d.view, x: d.view.x + e.clientX - d.x, y: d.view.y + e.clientY - d.y });
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const half = SHAPE / 2;
  return (
    <div className="lineage-canvas">
      <div className="lineage-tools" role="toolbar" aria-label={lineageEn.title}>
        <form onSubmit={find} role="search">
          <input
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder={lineageEn.find}
            aria-label={lineageEn.find}
          />
        </form>
        <button type="button" onClick={() => zoom(1.25)} aria-label={lineageEn.zoomIn}>
          +
        </button>
        <button type="button" onClick={() => zoom(0.8)} aria-label={lineageEn.zoomOut}>
          −
        </button>
        <button type="button" onClick={() => fit(false)}>
          {lineageEn.fit}
        </button>
      </div>
      <div
        ref={box}
        className="lineage-box"
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
      >
        <svg
          className="lineage-svg"
          role="group"
          aria-label={lineageEn.graphLabel(nodeLabel(graph.nodes.get(graph.root)!))}
          data-nodes={graph.nodes.size}
          data-edges={graph.edges.size}
        >
          <defs>
            <marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" className="lineage-arrowhead" />
            </marker>
          </defs>
          {view && (
            <g transform={`translate(${view.x},${view.y}) scale(${view.k})`}>
              {placed.edges.map((edge) => (
                <path
                  key={edge.key}
                  d={path(edge.points)}
                  className={`lineage-edge lineage-edge-${graph.edges.get(edge.key)?.direction ?? "input"}`}
                  markerEnd="url(#lineage-arrow)"
                />
              ))}
              {[...graph.nodes.values()].map((node) => {
                const at = placed.nodes.get(node.key);
                if (!at) return null;
                const label = nodeLabel(node);
                const canExpand = !graph.expanded.has(node.key);
                return (
                  <g
                    key={node.key}
                    className={`lineage-node kind-${node.kind.toLowerCase()}${node.key === graph.root ? " is-root" : ""}${node.key === found ? " is-found" : ""}`}
                    data-key={node.key}
                    transform={`translate(${at.x},${at.y})`}
                  >
                    <a
                      href={lineageNodeHref(node)}
                      aria-label={`${node.kind} ${label}`}
                      onClick={(e) => {
                        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                        e.preventDefault();
                        navigate(lineageNodeHref(node));
                      }}
                    >
                      <title>{`${node.kind} ${node.path}${node.version ? ` @ ${node.version.short}: ${node.version.message}` : ""}`}</title>
                      {shapeOf(node) === "square" ? (
                        <rect x={-half} y={-half} width={SHAPE} height={SHAPE} rx={3} className="lineage-shape" />
                      ) : (
                        <circle r={half} className="lineage-shape" />
                      )}
                      <text y={half + 12} textAnchor="middle" className="lineage-label">
                        {shortLabel(label)}
                      </text>
                    </a>
                    {canExpand && (
                      <g
                        role="button"
                        tabIndex={0}
                        aria-label={lineageEn.expand(label)}
                        className={busy === node.key ? "lineage-expand busy" : "lineage-expand"}
                        transform={`translate(${half + 2},${-half - 2})`}
                        onClick={() => onExpand(node.key)}
                        onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), onExpand(node.key))}
                      >
                        <circle r={7} />
                        <text textAnchor="middle" y={4}>
                          +
                        </text>
                      </g>
                    )}
                  </g>
                );
              })}
            </g>
          )}
        </svg>
      </div>
    </div>
  );
}
