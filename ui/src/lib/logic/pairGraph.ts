// Both neighbourhoods of a candidate pair in one drawing: the left graph on the left, the
// right graph on the right, aligned entities joined across.

import type { LinkKind, PairContextDto } from '../backend/types';
import { neighbourhoodElements, type GraphEdge, type GraphNode } from './graph';

/** A node with its fixed position. */
export interface PlacedNode extends GraphNode {
  position: { x: number; y: number };
}

/** A link between an entity of each side. */
export interface CrossLink {
  data: { id: string; source: string; target: string; kind: LinkKind; cross: true };
}

/** Radius of each neighbourhood's ring, and the gap between the two centres. */
export const RING = 150;
export const CENTRE_GAP = 480;

/**
 * Places one neighbourhood around `cx`: the centre there, neighbours on a ring of `slots`
 * places whose first place faces the other graph. Both rings use the same slots, so the
 * i-th neighbours of the two sides are mirror images and linked partners face each other.
 */
function place(nodes: GraphNode[], cx: number, facing: 1 | -1, slots: number): PlacedNode[] {
  const ring = nodes.filter((n) => !n.data.center);
  return nodes.map((n) => {
    if (n.data.center) return { ...n, position: { x: cx, y: 0 } };
    const i = ring.indexOf(n);
    // Slot 0 at angle 0 faces the other graph; the ring goes round from there.
    const angle = (2 * Math.PI * i) / Math.max(slots, 1);
    const x = cx + facing * RING * Math.cos(angle);
    const y = RING * Math.sin(angle);
    return { ...n, position: { x, y } };
  });
}

/**
 * Orders the left ring so that linked neighbours come first, and the right ring so that
 * each linked neighbour takes the same place as its partner.
 */
function orderForLinks(
  left: GraphNode[],
  right: GraphNode[],
  links: PairContextDto['links'],
): [GraphNode[], GraphNode[]] {
  const partner = new Map<string, string>();
  for (const l of links) partner.set(String(l.left), String(l.right));
  const linkedLeft = left.filter((n) => !n.data.center && partner.has(n.data.id));
  const otherLeft = left.filter((n) => !n.data.center && !partner.has(n.data.id));
  const leftRing = [...linkedLeft, ...otherLeft];
  const rightById = new Map(right.filter((n) => !n.data.center).map((n) => [n.data.id, n]));
  const rightRing: GraphNode[] = [];
  for (const n of linkedLeft) {
    const r = rightById.get(partner.get(n.data.id)!);
    if (r && !rightRing.includes(r)) rightRing.push(r);
  }
  for (const n of rightById.values()) if (!rightRing.includes(n)) rightRing.push(n);
  const centres = (nodes: GraphNode[]) => nodes.filter((n) => n.data.center);
  return [
    [...centres(left), ...leftRing],
    [...centres(right), ...rightRing],
  ];
}

/** Cytoscape elements with preset positions for a pair's two neighbourhoods. */
export function pairElements(context: PairContextDto): {
  nodes: PlacedNode[];
  edges: GraphEdge[];
  links: CrossLink[];
} {
  const left = neighbourhoodElements(context.left);
  const right = neighbourhoodElements(context.right);
  const drawn = (nodes: GraphNode[]) => new Set(nodes.map((n) => n.data.id));
  const [leftIds, rightIds] = [drawn(left.nodes), drawn(right.nodes)];
  const shown = context.links.filter(
    (l) => leftIds.has(String(l.left)) && rightIds.has(String(l.right)),
  );
  const [leftOrder, rightOrder] = orderForLinks(left.nodes, right.nodes, shown);
  const slots = Math.max(leftOrder.length, rightOrder.length) - 1;
  const nodes = [
    ...place(leftOrder, -CENTRE_GAP / 2, 1, slots),
    ...place(rightOrder, CENTRE_GAP / 2, -1, slots),
  ];
  const links: CrossLink[] = shown.map((l) => ({
    data: {
      id: `link-${l.left}-${l.right}`,
      source: String(l.left),
      target: String(l.right),
      kind: l.kind,
      cross: true,
    },
  }));
  return { nodes, edges: [...left.edges, ...right.edges], links };
}

/** A cytoscape viewport: zoom and pan (rendered = model × zoom + pan). */
export interface Viewport {
  zoom: number;
  pan: { x: number; y: number };
}

/**
 * The viewport that shows every node position inside a `width` × `height` canvas with
 * `padding` pixels around, centred, the zoom clamped to [`minZoom`, `maxZoom`]. Computed
 * from the preset positions alone (cytoscape's own `fit` measures every label, which
 * costs more than drawing the graph); the padding leaves room for the labels.
 */
export function viewportFor(
  positions: { x: number; y: number }[],
  width: number,
  height: number,
  padding: number,
  [minZoom, maxZoom]: [number, number],
): Viewport {
  if (positions.length === 0) return { zoom: 1, pan: { x: width / 2, y: height / 2 } };
  const xs = positions.map((p) => p.x);
  const ys = positions.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const fitX = (width - 2 * padding) / Math.max(x1 - x0, 1);
  const fitY = (height - 2 * padding) / Math.max(y1 - y0, 1);
  const zoom = Math.min(maxZoom, Math.max(minZoom, Math.min(fitX, fitY)));
  return {
    zoom,
    pan: { x: width / 2 - zoom * ((x0 + x1) / 2), y: height / 2 - zoom * ((y0 + y1) / 2) },
  };
}
