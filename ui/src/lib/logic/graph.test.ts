import { describe, expect, it } from 'vitest';
import type { EntityDto, NeighbourhoodDto } from '../backend/types';
import { neighbourhoodElements, relationName, shortLabel } from './graph';

const e = (entity: number, label: string, side: 'left' | 'right' = 'left'): EntityDto => ({
  entity,
  side,
  key: `http://x/${label}`,
  name: label,
  label,
});

describe('neighbourhoodElements', () => {
  const dto: NeighbourhoodDto = {
    center: e(1, 'Paris'),
    nodes: [
      { entity: e(2, 'France'), hop: 1 },
      { entity: e(3, 'Europe'), hop: 2 },
      { entity: e(1, 'Paris'), hop: 0 },
    ],
    edges: [
      { source: 1, target: 2, relation: 'http://x/capitalOf' },
      { source: 1, target: 2, relation: 'http://x/locatedIn' },
      { source: 1, target: 2, relation: 'http://x/capitalOf' },
      { source: 2, target: 3, relation: 'http://x/partOf' },
      { source: 3, target: 99, relation: 'http://x/dangling' },
    ],
    truncated: false,
  };
  const { nodes, edges } = neighbourhoodElements(dto);

  it('makes one node per entity, the centre marked', () => {
    expect(nodes.map((n) => n.data.id)).toEqual(['1', '2', '3']);
    expect(nodes[0]?.data).toMatchObject({
      center: true,
      hop: 0,
      key: 'http://x/Paris',
      side: 'left',
    });
    expect(nodes[2]?.data).toMatchObject({ center: false, hop: 2 });
  });

  it('merges parallel edges, drops edges to absent nodes, labels with short names', () => {
    expect(edges).toEqual([
      { data: { id: '1->2', source: '1', target: '2', label: 'capitalOf, locatedIn' } },
      { data: { id: '2->3', source: '2', target: '3', label: 'partOf' } },
    ]);
  });
});

describe('labels', () => {
  it('shortens long labels with an ellipsis', () => {
    expect(shortLabel('short')).toBe('short');
    expect(shortLabel('a'.repeat(30), 10)).toBe(`${'a'.repeat(9)}…`);
  });
  it('takes the last segment of relation URIs', () => {
    expect(relationName('http://dbpedia.org/property/birthPlace')).toBe('birthPlace');
    expect(relationName('http://www.w3.org/2000/01/rdf-schema#label')).toBe('label');
    expect(relationName('<http://x/y/>')).toBe('y');
    expect(relationName('plain')).toBe('plain');
  });
});
