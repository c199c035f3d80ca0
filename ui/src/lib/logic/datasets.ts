// Reading the free-form `statistics` JSON of a dataset (DatasetStats of the datasets crate).

import type { DeviceArg, DeviceOptionDto, JsonValue } from '../backend/types';

export interface GraphSummary {
  entities: number | null;
  triples: number | null;
  imageCoverage: number | null;
  entitiesWithImageFiles: number | null;
  entitiesWithImageFeatures: number | null;
  attributeTriples: number | null;
  entitiesWithAttributeText: number | null;
}

export interface DatasetSummary {
  left: GraphSummary;
  right: GraphSummary;
  goldPairs: number | null;
}

function field(value: JsonValue | undefined, key: string): JsonValue | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value[key];
}

function num(value: JsonValue | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function graph(value: JsonValue | undefined): GraphSummary {
  return {
    entities: num(field(value, 'entities')),
    triples: num(field(value, 'triples')),
    imageCoverage: num(field(value, 'image_coverage')),
    entitiesWithImageFiles: num(field(value, 'entities_with_image_files')),
    entitiesWithImageFeatures: num(field(value, 'entities_with_image_features')),
    attributeTriples: num(field(value, 'attribute_triples')),
    entitiesWithAttributeText: num(field(value, 'entities_with_attribute_text_features')),
  };
}

/** Whether a graph of the dataset has image files but no image features yet. */
export function needsImageEncoding(s: DatasetSummary): boolean {
  return [s.left, s.right].some(
    (g) => (g.entitiesWithImageFiles ?? 0) > 0 && (g.entitiesWithImageFeatures ?? 0) === 0,
  );
}

/**
 * Whether a graph of the dataset has attribute triples but no text embeddings of them yet
 * (statistics recorded before text embeddings existed count as needing them).
 */
export function needsTextEncoding(s: DatasetSummary): boolean {
  return [s.left, s.right].some(
    (g) => (g.attributeTriples ?? 0) > 0 && (g.entitiesWithAttributeText ?? 0) === 0,
  );
}

/** What the home table shows of a dataset; missing figures are null. */
export function summarise(statistics: JsonValue): DatasetSummary {
  return {
    left: graph(field(statistics, 'left')),
    right: graph(field(statistics, 'right')),
    goldPairs: num(field(statistics, 'gold_pairs')),
  };
}

/** Image coverage of both graphs together, weighted by entities. */
export function overallImageCoverage(s: DatasetSummary): number | null {
  const parts = [s.left, s.right].filter(
    (g): g is GraphSummary & { entities: number; imageCoverage: number } =>
      g.entities !== null && g.imageCoverage !== null,
  );
  const total = parts.reduce((a, g) => a + g.entities, 0);
  if (parts.length === 0 || total === 0) return null;
  return parts.reduce((a, g) => a + g.entities * g.imageCoverage, 0) / total;
}

/**
 * The devices an encoding can run on here, the one it uses when not told first: CUDA where
 * a GPU answers (the backend's own default), then the CPU.
 */
export function encodingDevices(devices: DeviceOptionDto[]): DeviceArg[] {
  const available = devices.filter((d) => d.available).map((d) => d.name);
  return [...available.filter((d) => d === 'cuda'), ...available.filter((d) => d !== 'cuda')];
}
