import { describe, expect, it } from 'vitest';
import { needsImageEncoding, overallImageCoverage, summarise } from './datasets';

const graph = (files: number, features: number, entities = 10) => ({
  entities,
  triples: 5,
  image_coverage: Math.max(files, features) / entities,
  entities_with_image_files: files,
  entities_with_image_features: features,
});

describe('dataset statistics', () => {
  it('asks for an encoding where a graph has image files but no features', () => {
    const stats = { left: graph(4, 0), right: graph(0, 0), gold_pairs: 3 };
    expect(needsImageEncoding(summarise(stats))).toBe(true);
  });

  it('needs no encoding once features exist, or without image files', () => {
    expect(
      needsImageEncoding(summarise({ left: graph(4, 4), right: graph(3, 2), gold_pairs: 3 })),
    ).toBe(false);
    expect(
      needsImageEncoding(summarise({ left: graph(0, 0), right: graph(0, 0), gold_pairs: 3 })),
    ).toBe(false);
  });

  it('reads statistics stored before the image counts existed', () => {
    const old = summarise({ left: { entities: 10 }, right: { entities: 5 }, gold_pairs: 1 });
    expect(old.left.entitiesWithImageFiles).toBeNull();
    expect(needsImageEncoding(old)).toBe(false);
    expect(overallImageCoverage(old)).toBeNull();
  });
});
