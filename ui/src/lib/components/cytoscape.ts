// What the cytoscape graphs share: the library, loaded on first use, and the node and
// edge style.
import type cytoscape from 'cytoscape';

/** Style of entity nodes (by side, hop, centre) and relation edges. */
export const graphStyle: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 10,
      'text-valign': 'bottom',
      'text-margin-y': 3,
      'background-color': '#94a3b8',
      width: 14,
      height: 14,
      color: '#1d2430',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.8,
      'text-background-padding': '1px',
    },
  },
  { selector: 'node[side = "left"]', style: { 'background-color': '#2563eb' } },
  { selector: 'node[side = "right"]', style: { 'background-color': '#d97706' } },
  { selector: 'node[hop = 2]', style: { width: 9, height: 9, opacity: 0.85 } },
  {
    selector: 'node[?center]',
    style: {
      width: 24,
      height: 24,
      'border-width': 3,
      'border-color': '#1d2430',
      'font-weight': 'bold',
      'font-size': 12,
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1,
      'line-color': '#cbd5e1',
      'target-arrow-color': '#cbd5e1',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.7,
      'curve-style': 'bezier',
      label: 'data(label)',
      'font-size': 8,
      color: '#64748b',
      'text-rotation': 'autorotate',
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.7,
    },
  },
  { selector: 'node:active, node:selected', style: { 'overlay-opacity': 0.1 } },
];

/** The cytoscape library, loaded on first use: it is most of the bundle and only the graphs need it. */
let library: Promise<typeof cytoscape> | null = null;
export function loadCytoscape(): Promise<typeof cytoscape> {
  library ??= import('cytoscape').then((m) => m.default);
  return library;
}
