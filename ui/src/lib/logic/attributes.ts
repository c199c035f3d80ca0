// Two entities' attributes side by side: keys matched by their local name, values compared.

import type { AttributeDto } from '../backend/types';
import { relationName } from './graph';

/** One attribute name with both entities' values. */
export interface AttributeRow {
  name: string;
  left: string[];
  right: string[];
  /** `same` when a value is shared, `differ` when both have values and none is shared. */
  status: 'same' | 'differ' | 'left-only' | 'right-only';
}

/** Lower case, trimmed, inner spaces collapsed, numbers in one spelling (`1.50` = `1.5`). */
export function normaliseValue(value: string): string {
  const text = value.trim().toLowerCase().replace(/\s+/g, ' ');
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? String(n) : text;
}

function grouped(attributes: AttributeDto[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const a of attributes) {
    const name = relationName(a.key).toLowerCase();
    const values = map.get(name) ?? [];
    if (a.value !== null && a.value !== undefined) values.push(a.value);
    map.set(name, values);
  }
  return map;
}

const ORDER: Record<AttributeRow['status'], number> = {
  same: 0,
  differ: 1,
  'left-only': 2,
  'right-only': 3,
};

/**
 * Rows for every attribute name of either entity: names both have first (shared values,
 * then differing), then each side's own, each group by name.
 */
export function alignAttributes(left: AttributeDto[], right: AttributeDto[]): AttributeRow[] {
  const l = grouped(left);
  const r = grouped(right);
  const names = new Set([...l.keys(), ...r.keys()]);
  const rows: AttributeRow[] = [...names].map((name) => {
    const lv = l.get(name);
    const rv = r.get(name);
    let status: AttributeRow['status'];
    if (!rv) status = 'left-only';
    else if (!lv) status = 'right-only';
    else {
      const theirs = new Set(rv.map(normaliseValue));
      status = lv.some((v) => theirs.has(normaliseValue(v))) ? 'same' : 'differ';
    }
    return { name, left: lv ?? [], right: rv ?? [], status };
  });
  return rows.sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.name.localeCompare(b.name));
}
