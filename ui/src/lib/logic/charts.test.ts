import { describe, expect, it } from 'vitest';
import { graphOverview } from '../../test/fixtures';
import { bucketLabel, coverageSeries, degreeSeries } from './charts';

describe('bucketLabel', () => {
  it('labels single degrees and ranges', () => {
    expect(bucketLabel({ min_degree: 0, max_degree: 0 })).toBe('0');
    expect(bucketLabel({ min_degree: 4, max_degree: 7 })).toBe('4–7');
  });
});

describe('degreeSeries', () => {
  it('aligns both graphs on the union of buckets, zero where a graph has none', () => {
    const left = graphOverview('left', {
      degree_histogram: [
        { min_degree: 1, max_degree: 1, entities: 5 },
        { min_degree: 2, max_degree: 3, entities: 7 },
      ],
    });
    const right = graphOverview('right', {
      degree_histogram: [
        { min_degree: 0, max_degree: 0, entities: 2 },
        { min_degree: 2, max_degree: 3, entities: 4 },
        { min_degree: 8, max_degree: 15, entities: 1 },
      ],
    });
    const s = degreeSeries([left, right]);
    expect(s.labels).toEqual(['0', '1', '2–3', '8–15']);
    expect(s.series).toEqual([
      { name: 'Left graph', values: [0, 5, 7, 0] },
      { name: 'Right graph', values: [2, 0, 4, 1] },
    ]);
  });
});

describe('coverageSeries', () => {
  it('divides counts by the entities of each graph', () => {
    const s = coverageSeries([
      graphOverview('left'),
      graphOverview('right', {
        entities: 0,
        coverage: { with_relations: 0, with_attributes: 0, with_images: 0, with_image_features: 0 },
      }),
    ]);
    expect(s.labels).toEqual(['Relations', 'Attributes', 'Images', 'Image features']);
    expect(s.series[0]?.values).toEqual([0.9, 0.4, 0.25, 0.2]);
    expect(s.series[1]?.values).toEqual([0, 0, 0, 0]);
  });
});
