// The training form, rendered from the model's schema: field values as text, validated
// and assembled into a StartRunRequest with the settings by key.

import type {
  DeviceArg,
  JsonValue,
  ConfigFieldDto,
  ModelOptionsDto,
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
  // An optional knob (e.g. a restart that may be off) left empty stays null.
  if (field.optional && field.kind !== 'bool' && text === '') return { ok: true, value: null };
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

export interface FormState {
  dataset: number | null;
  /** The model's id. */
  model: string;
  device: DeviceArg;
  trainRatio: string;
  validRatio: string;
  /** Inputs by setting key. */
  values: Record<string, FieldInput>;
}

/** Every field of `model` at its paper default, with `preset` (e.g. an ablation) on top. */
export function defaultValues(
  model: ModelOptionsDto | undefined,
  preset: Record<string, JsonValue> = {},
): Record<string, FieldInput> {
  const values: Record<string, FieldInput> = {};
  for (const f of model?.fields ?? []) {
    values[f.key] = initialInput(f.key in preset ? { ...f, default: preset[f.key] ?? null } : f);
  }
  return values;
}

/** The initial form: first model, defaults, the first available device (CPU otherwise). */
export function initialForm(options: TrainingOptionsDto, dataset: number | null): FormState {
  const model = options.models[0];
  const values = defaultValues(model);
  const device = options.devices.find((d) => d.available)?.name ?? 'cpu';
  return {
    dataset,
    model: model?.id ?? 'loginmea',
    device,
    trainRatio: String(options.train_ratio),
    validRatio: String(options.valid_ratio),
    values,
  };
}

/** Validates the form; the request, or the errors by field name (`dataset`, `train_ratio`, …). */
export function buildRequest(
  options: TrainingOptionsDto,
  form: FormState,
): { ok: true; request: StartRunRequest } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const model = options.models.find((m) => m.id === form.model);
  if (form.dataset === null) errors['dataset'] = 'choose a dataset';
  if (!model) errors['model'] = 'choose a model';
  const ratio = Number(form.trainRatio);
  if (form.trainRatio.trim() === '' || !Number.isFinite(ratio) || ratio <= 0 || ratio >= 1) {
    errors['train_ratio'] = 'a share between 0 and 1';
  }
  const valid = form.validRatio.trim() === '' ? 0 : Number(form.validRatio);
  if (!Number.isFinite(valid) || valid < 0 || valid >= 1) {
    errors['valid_ratio'] = 'a share from 0 to below 1';
  } else if (!errors['train_ratio'] && ratio + valid >= 1) {
    errors['valid_ratio'] = 'seed and validation shares must leave test pairs (sum below 1)';
  }
  const device = options.devices.find((d) => d.name === form.device);
  if (!device?.available) errors['device'] = 'this device is not available';

  const settings: Record<string, JsonValue> = {};
  for (const field of model?.fields ?? []) {
    const parsed = parseInput(field, form.values[field.key] ?? initialInput(field));
    if (!parsed.ok) {
      errors[field.key] = parsed.error;
      continue;
    }
    settings[field.key] = parsed.value;
  }
  if (Object.keys(errors).length > 0 || form.dataset === null) return { ok: false, errors };
  return {
    ok: true,
    request: {
      dataset: form.dataset,
      model: form.model,
      settings,
      train_ratio: ratio,
      valid_ratio: valid,
      device: form.device,
    },
  };
}

/** The form's groups, in the order the form shows them. */
const GROUP_ORDER = ['model', 'loss', 'training', 'iterative', 'evaluation'];

/** Fields of a model split by group (groups in form order, fields in the order given). */
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
  const rank = (g: string) => {
    const i = GROUP_ORDER.indexOf(g);
    return i < 0 ? GROUP_ORDER.length : i;
  };
  return groups.sort((a, b) => rank(a.group) - rank(b.group));
}
