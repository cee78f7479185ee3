// An artifact's runs from its lineage: the runs that wrote it (an output edge into it) and the runs
// that read it (an input edge out of it).
import type { LineageAnswer, LineageNode } from "../lineage/api";

export function producedAndUsed(answer: LineageAnswer, id: string): { producedBy: LineageNode[]; usedBy: LineageNode[] } {
  const byKey = new Map(answer.nodes.map((n) => [n.key, n]));
  const pick = (keys: string[]) =>
    [...new Set(keys)]
      .map((k) => byKey.get(k))
      .filter((n): n is LineageNode => !!n && n.kind === "Run")
      .sort((a, b) => a.path.localeCompare(b.path));
  return {
    producedBy: pick(answer.edges.filter((e) => e.target === id && e.direction === "output").map((e) => e.source)),
    usedBy: pick(answer.edges.filter((e) => e.source === id && e.direction === "input").map((e) => e.target)),
  };
}
