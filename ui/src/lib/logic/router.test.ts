import { describe, expect, it } from 'vitest';
import { href, parseHash, section, type Route } from './router';

describe('parseHash', () => {
  it('parses every route', () => {
    expect(parseHash('')).toEqual({ name: 'home' });
    expect(parseHash('#/')).toEqual({ name: 'home' });
    expect(parseHash('#/datasets/3')).toEqual({ name: 'dataset', id: 3 });
    expect(
      parseHash(
        '#/datasets/3/entity/right/http%3A%2F%2Fja.dbpedia.org%2Fresource%2F%E6%9D%B1%E4%BA%AC',
      ),
    ).toEqual({
      name: 'entity',
      id: 3,
      side: 'right',
      key: 'http://ja.dbpedia.org/resource/東京',
    });
    expect(parseHash('#/train')).toEqual({ name: 'train', dataset: null });
    expect(parseHash('#/train?dataset=2')).toEqual({ name: 'train', dataset: 2 });
    expect(parseHash('#/runs')).toEqual({ name: 'runs' });
    expect(parseHash('#/runs/12/')).toEqual({ name: 'run', id: 12 });
    expect(parseHash('#/runs/12/review')).toEqual({
      name: 'review',
      run: 12,
      strategy: 'lowest_margin',
    });
    expect(parseHash('#/runs/12/inspect?right=x')).toEqual({
      name: 'inspect',
      run: 12,
      left: null,
      right: null,
    });
  });

  it('rejects malformed paths', () => {
    expect(parseHash('#/datasets/abc').name).toBe('not_found');
    expect(parseHash('#/datasets/1/entity/middle/k').name).toBe('not_found');
    expect(parseHash('#/datasets/1/entity/left/%E0%A4%A').name).toBe('not_found');
    expect(parseHash('#/runs/1/2').name).toBe('not_found');
    expect(parseHash('#/runs/1/review?strategy=best').name).toBe('not_found');
    // A second run only means something for the disagreement order.
    expect(parseHash('#/runs/1/review?strategy=hubs&other=2')).toEqual({
      name: 'review',
      run: 1,
      strategy: 'hubs',
    });
    // The queue's scope: the undecided predictions are the default and need no parameter.
    expect(parseHash('#/runs/1/review?strategy=random&scope=disagreements')).toEqual({
      name: 'review',
      run: 1,
      strategy: 'random',
      scope: 'disagreements',
    });
    expect(parseHash('#/runs/1/review?scope=undecided')).toEqual({
      name: 'review',
      run: 1,
      strategy: 'lowest_margin',
    });
    expect(parseHash('#/runs/1/review?scope=everything').name).toBe('not_found');
    expect(parseHash('#/nowhere')).toEqual({ name: 'not_found', path: '/nowhere' });
    expect(parseHash('#/train?dataset=-1')).toEqual({ name: 'train', dataset: null });
  });
});

describe('href', () => {
  it('is the inverse of parseHash', () => {
    const routes: Route[] = [
      { name: 'home' },
      { name: 'dataset', id: 1 },
      { name: 'entity', id: 1, side: 'left', key: 'a/b?c#d e' },
      { name: 'train', dataset: null },
      { name: 'train', dataset: 5 },
      { name: 'runs' },
      { name: 'run', id: 9 },
      { name: 'inspect', run: 9, left: null, right: null },
      { name: 'inspect', run: 9, left: 'http://x/a?b', right: null },
      { name: 'inspect', run: 9, left: 'a&b', right: 'c=d' },
      { name: 'review', run: 9, strategy: 'random' },
      { name: 'review', run: 9, strategy: 'random', scope: 'second_opinion' },
      { name: 'review', run: 9, strategy: 'lowest_margin' },
      { name: 'review', run: 9, strategy: 'one_to_one' },
      { name: 'review', run: 9, strategy: 'disagreement', other: 4 },
      { name: 'compare', a: null, b: null },
      { name: 'compare', a: 2, b: null },
      { name: 'compare', a: 2, b: 3 },
      { name: 'analysis', run: 4 },
    ];
    for (const r of routes) expect(parseHash(href(r))).toEqual(r);
  });
  it('puts each route under its sidebar section', () => {
    expect(section({ name: 'entity', id: 1, side: 'left', key: 'k' })).toBe('datasets');
    expect(section({ name: 'run', id: 1 })).toBe('runs');
    expect(section({ name: 'not_found', path: '/x' })).toBeNull();
  });
});
