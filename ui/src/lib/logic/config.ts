// Nested JSON (a run's config or metrics) -> sorted `a.b.c = value` rows.

import type { JsonValue } from '../backend/types';

function scalar(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

/** Flattens objects into dotted keys; arrays of scalars stay one row (`[a, b]`). */
export function flattenConfig(value: JsonValue, prefix = ''): [string, string][] {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      return [[prefix || '(value)', `[${value.map(scalar).join(', ')}]`]];
    }
    return value.flatMap((v, i) => flattenConfig(v, prefix ? `${prefix}.${i}` : String(i)));
  }
  if (value !== null && typeof value === 'object') {
    const rows = Object.entries(value).flatMap(([k, v]) =>
      v === undefined ? [] : flattenConfig(v, prefix ? `${prefix}.${k}` : k),
    );
    return rows.length === 0 && prefix ? [[prefix, '{}']] : rows;
  }
  return [[prefix || '(value)', scalar(value)]];
}
