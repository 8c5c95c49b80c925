import { describe, expect, it } from 'vitest';
import { layoutDag } from './dag-layout.ts';

const sizes = { nodeW: 100, nodeH: 40, gapX: 20, gapY: 10 };

describe('pipeline DAG layout', () => {
  it('puts each step one column after its deepest dependency', () => {
    const layout = layoutDag(
      [
        { name: 'extract', deps: [] },
        { name: 'validate', deps: ['extract'] },
        { name: 'stats', deps: ['extract'] },
        { name: 'train', deps: ['validate'] },
        { name: 'evaluate', deps: ['train', 'stats'] },
      ],
      sizes,
    );
    const layer = Object.fromEntries(layout.nodes.map((n) => [n.name, n.layer]));
    expect(layer).toEqual({ extract: 0, validate: 1, stats: 1, train: 2, evaluate: 3 });
    expect(layout.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['extract>validate', 'extract>stats', 'validate>train', 'train>evaluate', 'stats>evaluate']);
    expect(layout.width).toBe(4 * 120 - 20);
    expect(layout.height).toBe(2 * 50 - 10);
    // A single node in a column sits in the middle of the tallest column.
    expect(layout.nodes.find((n) => n.name === 'train')!.y).toBe(25);
  });

  it('draws unknown dependencies and cycles without looping', () => {
    const layout = layoutDag(
      [
        { name: 'a', deps: ['b', 'ghost'] },
        { name: 'b', deps: ['a'] },
      ],
      sizes,
    );
    expect(layout.nodes).toHaveLength(2);
    expect(layout.edges.every((e) => e.from !== 'ghost')).toBe(true);
  });

  it('lays out no steps as an empty drawing', () => {
    expect(layoutDag([], sizes)).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
  });
});
