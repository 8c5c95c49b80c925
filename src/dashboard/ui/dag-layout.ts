/**
 * Layered layout of a small DAG (a pipeline run's steps): a step's column is the length of the
 * longest dependency chain before it, rows keep the order the steps were declared in, and each
 * column is centered on the tallest one. Unknown dependencies are ignored and a cycle cannot loop:
 * the layout must draw whatever the API sends.
 */
export interface DagInput {
  readonly name: string;
  readonly deps: readonly string[];
}

export interface DagNode {
  readonly name: string;
  readonly layer: number;
  readonly x: number;
  readonly y: number;
}

export interface DagEdge {
  readonly from: string;
  readonly to: string;
  /** Cubic Bézier from the right edge of `from` to the left edge of `to`. */
  readonly path: string;
}

export interface DagLayout {
  readonly nodes: DagNode[];
  readonly edges: DagEdge[];
  readonly width: number;
  readonly height: number;
}

export interface DagSizes {
  readonly nodeW: number;
  readonly nodeH: number;
  readonly gapX: number;
  readonly gapY: number;
}

export const DEFAULT_DAG_SIZES: DagSizes = { nodeW: 150, nodeH: 52, gapX: 44, gapY: 14 };

export function layoutDag(steps: readonly DagInput[], sizes: DagSizes = DEFAULT_DAG_SIZES): DagLayout {
  const byName = new Map(steps.map((st) => [st.name, st]));
  const layers = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (name: string): number => {
    const known = layers.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0;
    visiting.add(name);
    const deps = byName.get(name)?.deps.filter((d) => byName.has(d)) ?? [];
    const layer = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(layerOf));
    visiting.delete(name);
    layers.set(name, layer);
    return layer;
  };
  const columns: string[][] = [];
  for (const st of steps) {
    const l = layerOf(st.name);
    (columns[l] ??= []).push(st.name);
  }
  const tallest = Math.max(0, ...columns.map((c) => c?.length ?? 0));
  const pitchX = sizes.nodeW + sizes.gapX;
  const pitchY = sizes.nodeH + sizes.gapY;
  const nodes: DagNode[] = [];
  const at = new Map<string, DagNode>();
  columns.forEach((names, layer) => {
    const offset = ((tallest - names.length) * pitchY) / 2;
    names.forEach((name, row) => {
      const node = { name, layer, x: layer * pitchX, y: offset + row * pitchY };
      nodes.push(node);
      at.set(name, node);
    });
  });
  const edges: DagEdge[] = [];
  for (const st of steps) {
    const to = at.get(st.name)!;
    for (const dep of st.deps) {
      const from = at.get(dep);
      if (!from) continue;
      const x1 = from.x + sizes.nodeW;
      const y1 = from.y + sizes.nodeH / 2;
      const x2 = to.x;
      const y2 = to.y + sizes.nodeH / 2;
      const mid = (x1 + x2) / 2;
      edges.push({ from: dep, to: st.name, path: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
    }
  }
  return { nodes, edges, width: columns.length === 0 ? 0 : columns.length * pitchX - sizes.gapX, height: tallest === 0 ? 0 : tallest * pitchY - sizes.gapY };
}
