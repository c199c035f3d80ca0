// The training form: field values as text, validated and assembled into a StartRunRequest.

import type {
  DeviceArg,
  JsonValue,
  ConfigFieldDto,
  StartRunRequest,
  TrainingOptionsDto,
} from '../backend/types';

/** What an input holds: text for numbers and lists, a boolean for checkboxes. */
export type FieldInput = string | boolean;

/** The input's initial value from the field's (paper) default. */
export function initialInput(field: ConfigFieldDto): FieldInput {
  const d = field.default;
  switch (field.kind) {
    case 'bool':
      return d === true;
    case 'list':
      return Array.isArray(d) ? d.map((v) => String(v)).join(', ') : d === null ? '' : String(d);
    default:
      return d === null || d === undefined
        ? ''
        : typeof d === 'object'
          ? JSON.stringify(d)
          : String(d);
  }
}

/** Parses one input; returns the JSON value or an error message. */
export function parseInput(
  field: ConfigFieldDto,
  input: FieldInput,
): { ok: true; value: JsonValue } | { ok: false; error: string } {
  const text = typeof input === 'string' ? input.trim() : '';
  const range = (n: number): string | null => {
    if (field.min !== null && field.min !== undefined && n < field.min)
      return `at least ${field.min}`;
    if (field.max !== null && field.max !== undefined && n > field.max)
      return `at most ${field.max}`;
    return null;
  };
  // An optional knob (default null, e.g. "off") left empty stays null.
  if (field.default === null && field.kind !== 'bool' && text === '')
    return { ok: true, value: null };
  switch (field.kind) {
    case 'bool':
      return { ok: true, value: input === true };
    case 'int': {
      if (!/^-?\d+$/.test(text)) return { ok: false, error: 'a whole number' };
      const n = Number(text);
      const bad = range(n);
      return bad ? { ok: false, error: bad } : { ok: true, value: n };
    }
    case 'float': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) return { ok: false, error: 'a number' };
      const bad = range(n);
      return bad ? { ok: false, error: bad } : { ok: true, value: n };
    }
    case 'choice': {
      const choices = field.choices ?? [];
      if (choices.length > 0 && !choices.includes(text)) {
        return { ok: false, error: `one of ${choices.join(', ')}` };
      }
      return { ok: true, value: text };
    }
    case 'list': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const numeric =
        Array.isArray(field.default) &&
        field.default.length > 0 &&
        field.default.every((v) => typeof v === 'number');
      if (numeric) {
        const nums = items.map(Number);
        if (nums.some((n) => !Number.isFinite(n)))
          return { ok: false, error: 'numbers, comma-separated' };
        return { ok: true, value: nums };
      }
      const choices = field.choices ?? [];
      const unknown = items.filter((i) => choices.length > 0 && !choices.includes(i));
      if (unknown.length > 0) return { ok: false, error: `unknown: ${unknown.join(', ')}` };
      return { ok: true, value: items };
    }
  }
}

/** Sets `path` (`a.b.c`) in a nested object. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1) {
      node[part] = value;
    } else {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
  }
}

export interface FormState {
  dataset: number | null;
  model: string;
  device: DeviceArg;
  trainRatio: string;
  values: Record<string, FieldInput>;
}

/** The initial form: first model, defaults, the first available device (CPU otherwise). */
export function initialForm(options: TrainingOptionsDto, dataset: number | null): FormState {
  const model = options.models[0];
  const values: Record<string, FieldInput> = {};
  for (const f of model?.fields ?? []) values[f.name] = initialInput(f);
  const device = options.devices.find((d) => d.available)?.name ?? 'cpu';
  return {
    dataset,
    model: model?.name ?? 'loginmea',
    device,
    trainRatio: String(options.train_ratio),
    values,
  };
}

/** Validates the form; the request, or the errors by field name (`dataset`, `train_ratio`, …). */
export function buildRequest(
  options: TrainingOptionsDto,
  form: FormState,
): { ok: true; request: StartRunRequest } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const model = options.models.find((m) => m.name === form.model);
  if (form.dataset === null) errors['dataset'] = 'choose a dataset';
  if (!model) errors['model'] = 'choose a model';
  const ratio = Number(form.trainRatio);
  if (form.trainRatio.trim() === '' || !Number.isFinite(ratio) || ratio <= 0 || ratio >= 1) {
    errors['train_ratio'] = 'a share between 0 and 1';
  }
  const device = options.devices.find((d) => d.name === form.device);
  if (!device?.available) errors['device'] = 'this device is not available';

  const modelConfig: Record<string, unknown> = {};
  const trainConfig: Record<string, unknown> = {};
  for (const field of model?.fields ?? []) {
    const parsed = parseInput(field, form.values[field.name] ?? initialInput(field));
    if (!parsed.ok) {
      errors[field.name] = parsed.error;
      continue;
    }
    setPath(field.group === 'training' ? trainConfig : modelConfig, field.name, parsed.value);
  }
  if (Object.keys(errors).length > 0 || form.dataset === null) return { ok: false, errors };
  return {
    ok: true,
    request: {
      dataset: form.dataset,
      model: form.model,
      loginmea: modelConfig,
      train: trainConfig,
      train_ratio: ratio,
      valid_ratio: options.valid_ratio,
      device: form.device,
    },
  };
}

/** Fields of a model split by group, in the order given. */
export function groupFields(
  fields: readonly ConfigFieldDto[],
): { group: string; fields: ConfigFieldDto[] }[] {
  const groups: { group: string; fields: ConfigFieldDto[] }[] = [];
  for (const f of fields) {
    let g = groups.find((x) => x.group === f.group);
    if (!g) {
      g = { group: f.group, fields: [] };
      groups.push(g);
    }
    g.fields.push(f);
  }
  return groups;
}
