import { describe, expect, it } from 'vitest';
import type { EntityDto, PairContextDto } from '../backend/types';
import { CENTRE_GAP, pairElements, viewportFor } from './pairGraph';

const e = (entity: number, side: 'left' | 'right'): EntityDto => ({
  entity,
  side,
  key: `k${entity}`,
  name: `n${entity}`,
  label: `n${entity}`,
});

const context: PairContextDto = {
  left: {
    center: e(1, 'left'),
    nodes: [2, 3, 4].map((i) => ({ entity: e(i, 'left'), hop: 1 })),
    edges: [{ source: 1, target: 4, relation: 'r' }],
    truncated: false,
  },
  right: {
    center: e(11, 'right'),
    nodes: [12, 13].map((i) => ({ entity: e(i, 'right'), hop: 1 })),
    edges: [{ source: 11, target: 13, relation: 'r' }],
    truncated: false,
  },
  links: [
    { left: 4, right: 13, kind: 'seed' },
    { left: 1, right: 11, kind: 'accepted' },
    { left: 2, right: 99, kind: 'mutual_top1' },
  ],
};

describe('pairElements', () => {
  const { nodes, edges, links } = pairElements(context);
  const at = (id: number) => nodes.find((n) => n.data.id === String(id))!.position;

  it('puts the left graph left of the right one, centres on the axis', () => {
    expect(at(1)).toEqual({ x: -CENTRE_GAP / 2, y: 0 });
    expect(at(11)).toEqual({ x: CENTRE_GAP / 2, y: 0 });
    for (const n of nodes) {
      expect(Math.sign(n.position.x)).toBe(n.data.side === 'left' ? -1 : 1);
    }
  });

  it('places linked partners at mirror positions, facing each other', () => {
    expect(at(4).x).toBeCloseTo(-at(13).x);
    expect(at(4).y).toBeCloseTo(at(13).y);
    // The first linked neighbour takes the slot facing the other graph.
    expect(at(4).x).toBeGreaterThan(at(1).x);
  });

  it('keeps links whose ends are drawn, with their kind', () => {
    expect(links.map((l) => [l.data.source, l.data.target, l.data.kind])).toEqual([
      ['4', '13', 'seed'],
      ['1', '11', 'accepted'],
    ]);
    expect(edges).toHaveLength(2);
  });
});

describe('viewportFor', () => {
  const inside = (v: ReturnType<typeof viewportFor>, p: { x: number; y: number }) => ({
    x: p.x * v.zoom + v.pan.x,
    y: p.y * v.zoom + v.pan.y,
  });

  it('fits every position inside the padded canvas, centred', () => {
    const [first, last, centre] = [
      { x: -390, y: -150 },
      { x: 390, y: 150 },
      { x: 0, y: 0 },
    ];
    const v = viewportFor([first, last, centre], 800, 380, 40, [0.2, 3]);
    const [a, b] = [inside(v, first), inside(v, last)];
    // The wider extent decides the zoom: x touches the padding, y is centred inside it.
    expect(a.x).toBeCloseTo(40);
    expect(b.x).toBeCloseTo(760);
    expect(a.y + b.y).toBeCloseTo(380);
    expect(a.y).toBeGreaterThanOrEqual(40);
    expect(inside(v, centre)).toEqual({ x: 400, y: 190 });
  });

  it('clamps the zoom and centres a single node', () => {
    const v = viewportFor([{ x: 10, y: 20 }], 600, 300, 24, [0.2, 3]);
    expect(v.zoom).toBe(3);
    expect(inside(v, { x: 10, y: 20 })).toEqual({ x: 300, y: 150 });
  });
});
