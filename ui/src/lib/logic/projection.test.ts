import { describe, expect, it } from 'vitest';
import { fitScale, hitsSeries, nearestPoint } from './projection';

describe('fitScale', () => {
  it('fits the points inside the margin, keeping the aspect ratio, y up', () => {
    const s = fitScale([-2, 2], [-1, 1], 424, 224, 12);
    expect(s.px(-2)).toBeCloseTo(12);
    expect(s.px(2)).toBeCloseTo(412);
    // 100 px per unit on both axes.
    expect(s.py(1)).toBeCloseTo(12);
    expect(s.py(-1)).toBeCloseTo(212);
  });

  it('copes with one point and with none', () => {
    const one = fitScale([3], [3], 100, 100);
    expect(one.px(3)).toBe(50);
    const none = fitScale([], [], 100, 100);
    expect(Number.isFinite(none.px(0))).toBe(true);
  });
});

describe('nearestPoint', () => {
  const xs = [0, 1, 2];
  const ys = [0, 0, 0];
  const s = fitScale(
    xs,
    [-1, 0, 1].map(() => 0),
    220,
    100,
    10,
  );
  it('finds the point under the pointer within the radius', () => {
    expect(nearestPoint(xs, ys, s, s.px(1) + 3, s.py(0) - 2)).toBe(1);
    expect(nearestPoint(xs, ys, s, s.px(2) + 4, s.py(0))).toBe(2);
  });
  it('finds nothing far from every point', () => {
    expect(nearestPoint(xs, ys, s, s.px(1), s.py(0) + 40)).toBe(-1);
  });
});

describe('hitsSeries', () => {
  it('gives each group its share ranked right, naming the group size', () => {
    expect(
      hitsSeries(
        [
          { label: '0', queries: 0, hits_at_1: 0 },
          { label: '1', queries: 4, hits_at_1: 1 },
        ],
        'H@1',
      ),
    ).toEqual({ labels: ['0 (0)', '1 (4)'], series: [{ name: 'H@1', values: [0, 0.25] }] });
  });
});
