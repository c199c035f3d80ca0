import { describe, expect, it } from 'vitest';
import { graphOverview } from '../../test/fixtures';
import { bucketLabel, coverageSeries, degreeSeries, thinnedLabels } from './charts';

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

describe('thinnedLabels', () => {
  const labels = ['0', '1', '2–3', '4–7', '8–15', '16–31', '32–63', '64–127', '128–255', '256–511'];

  it('keeps every label when there is room', () => {
    expect(thinnedLabels(labels, 1000)).toEqual(labels);
  });

  it('keeps every k-th label, the first always, when the axis is narrow', () => {
    // 30 px per slot: "16–31" and "32–63" need 5 * 6 + 6 = 36 px, two slots do.
    const shown = thinnedLabels(labels, 300);
    expect(shown).toEqual(['0', '', '2–3', '', '8–15', '', '32–63', '', '128–255', '']);
  });

  it('lets a long label lean on a short neighbour', () => {
    const coverage = ['Relations', 'Attributes', 'Images', 'Image features'];
    expect(thinnedLabels(coverage, 270)).toEqual(coverage);
    expect(thinnedLabels(coverage, 150)).toEqual(['Relations', '', 'Images', '']);
  });

  it('shows at least the first label however narrow, and nothing for no labels', () => {
    expect(thinnedLabels(labels, 10).filter((l) => l !== '')).toEqual(['0']);
    expect(thinnedLabels([], 100)).toEqual([]);
  });
});
