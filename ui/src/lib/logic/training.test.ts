import { describe, expect, it } from 'vitest';
import type { ConfigFieldDto, TrainingOptionsDto } from '../backend/types';
import {
  buildRequest,
  groupFields,
  initialForm,
  initialInput,
  parseInput,
  defaultValues,
} from './training';

const field = (
  f: Partial<ConfigFieldDto> & Pick<ConfigFieldDto, 'key' | 'kind' | 'default'>,
): ConfigFieldDto => ({
  group: 'model',
  help: 'what it does',
  min: null,
  max: null,
  choices: null,
  optional: false,
  allowed: 'a value',
  ...f,
});

const options: TrainingOptionsDto = {
  devices: [
    { name: 'cpu', available: true, detail: '2 cores' },
    { name: 'cuda', available: false, detail: 'not compiled in' },
  ],
  models: [
    {
      id: 'loginmea',
      name: 'LoginMEA',
      citation: 'Su et al., ECAI 2024',
      summary: 'fuses modalities',
      modalities: ['structure', 'image'],
      ablations: [{ label: 'w/o low-rank fusion', settings: { fusion: 'concat' } }],
      deviations: ['none here'],
      modality_weights: true,
      fields: [
        field({ key: 'hidden', kind: 'int', default: 300, min: 1 }),
        field({ key: 'temperature', kind: 'float', default: 0.1 }),
        field({ key: 'adaptive_weights', kind: 'bool', default: true }),
        field({
          key: 'fusion',
          kind: 'choice',
          default: 'low_rank',
          choices: ['low_rank', 'concat'],
        }),
        field({
          key: 'modalities',
          kind: 'list',
          default: ['relation', 'attribute'],
          choices: ['relation', 'attribute', 'image'],
        }),
        field({ key: 'epochs', kind: 'int', default: 600, group: 'training', min: 1, max: 10000 }),
        field({ key: 'learning_rate', kind: 'float', default: 0.0005, group: 'training' }),
      ],
    },
  ],
  train_ratio: 0.3,
  valid_ratio: 0,
};

describe('inputs', () => {
  it('starts from the defaults', () => {
    expect(initialInput(field({ key: 'a', kind: 'list', default: ['x', 'y'] }))).toBe('x, y');
    expect(initialInput(field({ key: 'a', kind: 'float', default: 0.0005 }))).toBe('0.0005');
    expect(initialInput(field({ key: 'a', kind: 'bool', default: false }))).toBe(false);
  });
  it('validates kinds and ranges', () => {
    const int = field({ key: 'n', kind: 'int', default: 1, min: 1, max: 10 });
    expect(parseInput(int, '5')).toEqual({ ok: true, value: 5 });
    expect(parseInput(int, '5.5')).toEqual({ ok: false, error: 'a whole number' });
    expect(parseInput(int, '0')).toEqual({ ok: false, error: 'at least 1' });
    expect(parseInput(int, '11')).toEqual({ ok: false, error: 'at most 10' });
    const fl = field({ key: 'f', kind: 'float', default: 0.1 });
    expect(parseInput(fl, '1e-4')).toEqual({ ok: true, value: 0.0001 });
    expect(parseInput(fl, 'abc').ok).toBe(false);
    const list = field({ key: 'l', kind: 'list', default: ['a'], choices: ['a', 'b'] });
    expect(parseInput(list, 'a, b,')).toEqual({ ok: true, value: ['a', 'b'] });
    expect(parseInput(list, 'a, c')).toEqual({ ok: false, error: 'unknown: c' });
    const nums = field({ key: 'l', kind: 'list', default: [1, 5, 10] });
    expect(parseInput(nums, '1, 10')).toEqual({ ok: true, value: [1, 10] });
  });
  it('keeps an optional knob null when left empty, and validates it when filled', () => {
    const optional = field({ key: 'restart_after', kind: 'int', default: null, optional: true });
    expect(initialInput(optional)).toBe('');
    expect(parseInput(optional, '  ')).toEqual({ ok: true, value: null });
    expect(parseInput(optional, '50')).toEqual({ ok: true, value: 50 });
    expect(parseInput(optional, 'x').ok).toBe(false);
    const required = field({ key: 'hidden', kind: 'int', default: 300 });
    expect(parseInput(required, '').ok).toBe(false);
  });
  it('applies a preset over the paper defaults', () => {
    const values = defaultValues(options.models[0], { fusion: 'concat' });
    expect(values['fusion']).toBe('concat');
    expect(values['hidden']).toBe('300');
  });
});

describe('buildRequest', () => {
  it('sends every setting by key and picks an available device', () => {
    const form = initialForm(options, 4);
    expect(form.device).toBe('cpu');
    form.values['epochs'] = '3';
    const built = buildRequest(options, form);
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.request).toMatchObject({
      dataset: 4,
      model: 'loginmea',
      device: 'cpu',
      train_ratio: 0.3,
      valid_ratio: 0,
      settings: {
        hidden: 300,
        temperature: 0.1,
        adaptive_weights: true,
        fusion: 'low_rank',
        modalities: ['relation', 'attribute'],
        epochs: 3,
        learning_rate: 0.0005,
      },
    });
  });
  it('collects every error by field', () => {
    const form = initialForm(options, null);
    form.device = 'cuda';
    form.trainRatio = '1.5';
    form.validRatio = '-1';
    form.values['hidden'] = 'x';
    const built = buildRequest(options, form);
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(Object.keys(built.errors).sort()).toEqual([
      'dataset',
      'device',
      'hidden',
      'train_ratio',
      'valid_ratio',
    ]);
  });
  it('refuses seed and validation shares that leave no test pairs', () => {
    const form = initialForm(options, 1);
    form.validRatio = '0.7';
    const built = buildRequest(options, form);
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.errors['valid_ratio']).toMatch(/sum below 1/);
  });
  it("groups fields in the form's group order", () => {
    const fields = options.models[0]?.fields ?? [];
    const mixed = [field({ key: 'k', kind: 'int', default: 1, group: 'evaluation' }), ...fields];
    expect(groupFields(mixed).map((g) => [g.group, g.fields.length])).toEqual([
      ['model', 5],
      ['training', 2],
      ['evaluation', 1],
    ]);
  });
});
