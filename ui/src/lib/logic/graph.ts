// Neighbourhood DTO -> cytoscape elements.

import type { NeighbourhoodDto } from '../backend/types';

export interface GraphNode {
  data: {
    id: string;
    label: string;
    key: string;
    side: 'left' | 'right';
    hop: number;
    center: boolean;
  };
}

export interface GraphEdge {
  data: { id: string; source: string; target: string; label: string };
}

/** Shortens long labels for the canvas (the full text stays in the card). */
export function shortLabel(text: string, max = 24): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Nodes for the centre and every neighbour, edges between nodes present; parallel edges of
 * one direction are merged into one edge whose label lists the distinct relations.
 */
export function neighbourhoodElements(n: NeighbourhoodDto): {
  nodes: GraphNode[];
  edges: GraphEdge[];
} {
  const nodes = new Map<string, GraphNode>();
  const add = (e: NeighbourhoodDto['center'], hop: number) => {
    const id = String(e.entity);
    if (nodes.has(id)) return;
    nodes.set(id, {
      data: {
        id,
        label: shortLabel(e.label || e.name || e.key),
        key: e.key,
        side: e.side,
        hop,
        center: hop === 0,
      },
    });
  };
  add(n.center, 0);
  for (const node of n.nodes) add(node.entity, node.hop);

  const merged = new Map<string, { source: string; target: string; relations: string[] }>();
  for (const edge of n.edges) {
    const source = String(edge.source);
    const target = String(edge.target);
    if (!nodes.has(source) || !nodes.has(target)) continue;
    const id = `${source}->${target}`;
    const entry = merged.get(id) ?? { source, target, relations: [] };
    if (!entry.relations.includes(edge.relation)) entry.relations.push(edge.relation);
    merged.set(id, entry);
  }
  const edges = [...merged.entries()].map(([id, e]) => ({
    data: { id, source: e.source, target: e.target, label: relationLabel(e.relations) },
  }));
  return { nodes: [...nodes.values()], edges };
}

/** Last path segment of a relation URI (`http://x/y/birthPlace` -> `birthPlace`). */
export function relationName(relation: string): string {
  const trimmed = relation.replace(/[/#>]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('#'));
  return cut >= 0 && cut < trimmed.length - 1 ? trimmed.slice(cut + 1) : trimmed;
}

function relationLabel(relations: string[]): string {
  const names = relations.map(relationName);
  return names.length <= 2
    ? names.join(', ')
    : `${names.slice(0, 2).join(', ')} +${names.length - 2}`;
}
