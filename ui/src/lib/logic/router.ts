// Hash routes: parsing `#/...` into a typed route and building links back.

import type { ReviewScope, ReviewStrategy, SideDto } from '../backend/types';

export type Route =
  | { name: 'home' }
  | { name: 'dataset'; id: number }
  | { name: 'entity'; id: number; side: SideDto; key: string }
  | { name: 'train'; dataset: number | null }
  | { name: 'runs' }
  | { name: 'run'; id: number }
  | { name: 'inspect'; run: number; left: string | null; right: string | null }
  | {
      name: 'review';
      run: number;
      strategy: ReviewStrategy;
      other?: number | null;
      /** Which pairs; absent: the run's undecided predictions. */
      scope?: ReviewScope;
    }
  | { name: 'compare'; a: number | null; b: number | null }
  | { name: 'analysis'; run: number }
  | { name: 'not_found'; path: string };

function positiveInt(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Parses a location hash (`#/runs/3`, `#/train?dataset=1`, `` or `#`). */
export function parseHash(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const [pathPart = '', queryPart = ''] = splitOnce(raw, '?');
  const path = pathPart === '' ? '/' : pathPart;
  const query = new URLSearchParams(queryPart);
  const parts = path.split('/').filter((p) => p !== '');
  const notFound: Route = { name: 'not_found', path };

  if (parts.length === 0) return { name: 'home' };
  const [head, ...rest] = parts;
  switch (head) {
    case 'datasets': {
      const id = positiveInt(rest[0]);
      if (id === null) return notFound;
      if (rest.length === 1) return { name: 'dataset', id };
      if (
        rest.length === 4 &&
        rest[1] === 'entity' &&
        (rest[2] === 'left' || rest[2] === 'right')
      ) {
        const key = decode(rest[3] ?? '');
        if (key === null || key === '') return notFound;
        return { name: 'entity', id, side: rest[2], key };
      }
      return notFound;
    }
    case 'train':
      if (rest.length > 0) return notFound;
      return { name: 'train', dataset: positiveInt(query.get('dataset') ?? undefined) };
    case 'runs': {
      if (rest.length === 0) return { name: 'runs' };
      const id = positiveInt(rest[0]);
      if (id === null) return notFound;
      if (rest.length === 1) return { name: 'run', id };
      if (rest.length === 2 && rest[1] === 'inspect') {
        const left = query.get('left');
        return {
          name: 'inspect',
          run: id,
          left: left || null,
          right: left ? query.get('right') || null : null,
        };
      }
      if (rest.length === 2 && rest[1] === 'analysis') return { name: 'analysis', run: id };
      if (rest.length === 2 && rest[1] === 'review') {
        const strategy = query.get('strategy') ?? 'lowest_margin';
        if (!isStrategy(strategy)) return notFound;
        const other = positiveInt(query.get('other') ?? undefined);
        const scope = query.get('scope');
        if (scope !== null && !isScope(scope)) return notFound;
        const route: Route =
          other !== null && strategy === 'disagreement'
            ? { name: 'review', run: id, strategy, other }
            : { name: 'review', run: id, strategy };
        return scope !== null && scope !== 'undecided' ? { ...route, scope } : route;
      }
      return notFound;
    }
    case 'compare':
      if (rest.length > 0) return notFound;
      return {
        name: 'compare',
        a: positiveInt(query.get('a') ?? undefined),
        b: positiveInt(query.get('b') ?? undefined),
      };
    default:
      return notFound;
  }
}

const SCOPES: readonly ReviewScope[] = [
  'undecided',
  'second_opinion',
  'disagreements',
  'conflicts',
];

function isScope(text: string): text is ReviewScope {
  return (SCOPES as readonly string[]).includes(text);
}

const STRATEGIES: readonly ReviewStrategy[] = [
  'lowest_margin',
  'disagreement',
  'hubs',
  'random',
  'one_to_one',
];

function isStrategy(text: string): text is ReviewStrategy {
  return (STRATEGIES as readonly string[]).includes(text);
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

/** The hash link of a route (inverse of `parseHash`). */
export function href(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'dataset':
      return `#/datasets/${route.id}`;
    case 'entity':
      return `#/datasets/${route.id}/entity/${route.side}/${encodeURIComponent(route.key)}`;
    case 'train':
      return route.dataset === null ? '#/train' : `#/train?dataset=${route.dataset}`;
    case 'runs':
      return '#/runs';
    case 'run':
      return `#/runs/${route.id}`;
    case 'inspect': {
      const query = new URLSearchParams();
      if (route.left !== null) query.set('left', route.left);
      if (route.left !== null && route.right !== null) query.set('right', route.right);
      const text = query.toString();
      return `#/runs/${route.run}/inspect${text ? `?${text}` : ''}`;
    }
    case 'review': {
      const other =
        route.strategy === 'disagreement' && route.other != null ? `&other=${route.other}` : '';
      const scope =
        route.scope !== undefined && route.scope !== 'undecided' ? `&scope=${route.scope}` : '';
      return `#/runs/${route.run}/review?strategy=${route.strategy}${other}${scope}`;
    }
    case 'analysis':
      return `#/runs/${route.run}/analysis`;
    case 'compare': {
      const query = new URLSearchParams();
      if (route.a !== null) query.set('a', String(route.a));
      if (route.b !== null) query.set('b', String(route.b));
      const text = query.toString();
      return `#/compare${text ? `?${text}` : ''}`;
    }
    case 'not_found':
      return `#${route.path}`;
  }
}

/** Which sidebar entry a route belongs to. */
export function section(route: Route): 'home' | 'datasets' | 'train' | 'runs' | null {
  switch (route.name) {
    case 'home':
      return 'home';
    case 'dataset':
    case 'entity':
      return 'datasets';
    case 'train':
      return 'train';
    case 'runs':
    case 'run':
    case 'inspect':
    case 'review':
    case 'compare':
    case 'analysis':
      return 'runs';
    default:
      return null;
  }
}
