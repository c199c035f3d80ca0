import { describe, expect, it } from 'vitest';
import { flattenConfig } from './config';
import { overallImageCoverage, summarise } from './datasets';

describe('flattenConfig', () => {
  it('flattens nested objects into dotted keys', () => {
    expect(
      flattenConfig({
        model: { hidden: 300, modalities: ['relation', 'image'] },
        train: { learning_rate: 0.00050000001, restart: null, empty: {} },
      }),
    ).toEqual([
      ['model.hidden', '300'],
      ['model.modalities', '[relation, image]'],
      ['train.learning_rate', '0.0005'],
      ['train.restart', 'null'],
      ['train.empty', '{}'],
    ]);
  });
});

describe('dataset statistics', () => {
  it('reads the figures it knows and tolerates missing ones', () => {
    const s = summarise({
      left: { entities: 100, triples: 10, image_coverage: 0.5 },
      right: { entities: 300, image_coverage: 0.9 },
      gold_pairs: 80,
    });
    expect(s.left).toEqual({
      entities: 100,
      triples: 10,
      imageCoverage: 0.5,
      entitiesWithImageFiles: null,
      entitiesWithImageFeatures: null,
      attributeTriples: null,
      entitiesWithAttributeText: null,
    });
    expect(s.right.triples).toBeNull();
    expect(s.goldPairs).toBe(80);
    expect(overallImageCoverage(s)).toBeCloseTo(0.8);
    expect(summarise(null).goldPairs).toBeNull();
    expect(overallImageCoverage(summarise('junk'))).toBeNull();
  });
});
