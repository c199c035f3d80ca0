// Hash routes: parsing `#/...` into a typed route and building links back.

import type { SideDto } from '../backend/types';

export type Route =
  | { name: 'home' }
  | { name: 'dataset'; id: number }
  | { name: 'entity'; id: number; side: SideDto; key: string }
  | { name: 'train'; dataset: number | null }
  | { name: 'runs' }
  | { name: 'run'; id: number }
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
      return id !== null && rest.length === 1 ? { name: 'run', id } : notFound;
    }
    default:
      return notFound;
  }
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
      return 'runs';
    default:
      return null;
  }
}
