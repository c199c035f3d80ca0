import { describe, expect, it } from 'vitest';
import {
  encodingDevices,
  needsImageEncoding,
  needsTextEncoding,
  overallImageCoverage,
  summarise,
} from './datasets';

const graph = (files: number, features: number, entities = 10) => ({
  entities,
  triples: 5,
  image_coverage: Math.max(files, features) / entities,
  entities_with_image_files: files,
  entities_with_image_features: features,
});

describe('dataset statistics', () => {
  it('asks for an encoding where a graph has image files but no features', () => {
    const stats = { left: graph(4, 0), right: graph(0, 0), gold_pairs: 3 };
    expect(needsImageEncoding(summarise(stats))).toBe(true);
  });

  it('needs no encoding once features exist, or without image files', () => {
    expect(
      needsImageEncoding(summarise({ left: graph(4, 4), right: graph(3, 2), gold_pairs: 3 })),
    ).toBe(false);
    expect(
      needsImageEncoding(summarise({ left: graph(0, 0), right: graph(0, 0), gold_pairs: 3 })),
    ).toBe(false);
  });

  it('reads statistics stored before the image counts existed', () => {
    const old = summarise({ left: { entities: 10 }, right: { entities: 5 }, gold_pairs: 1 });
    expect(old.left.entitiesWithImageFiles).toBeNull();
    expect(needsImageEncoding(old)).toBe(false);
    expect(overallImageCoverage(old)).toBeNull();
  });
});

describe('text embeddings', () => {
  const withText = (attributes: number, embedded: number) => ({
    entities: 10,
    attribute_triples: attributes,
    entities_with_attribute_text_features: embedded,
  });

  it('are due where a graph has attribute triples and no embeddings', () => {
    const stats = { left: withText(7, 0), right: withText(0, 0), gold_pairs: 3 };
    expect(needsTextEncoding(summarise(stats))).toBe(true);
  });

  it('are not due once made, or without attributes', () => {
    const done = { left: withText(7, 6), right: withText(3, 2), gold_pairs: 3 };
    expect(needsTextEncoding(summarise(done))).toBe(false);
    const none = { left: withText(0, 0), right: withText(0, 0), gold_pairs: 3 };
    expect(needsTextEncoding(summarise(none))).toBe(false);
  });
});

describe('encoding devices', () => {
  const cpu = { name: 'cpu' as const, available: true, detail: 'the CPU (2 cores)' };
  it('offers CUDA first where a GPU answers', () => {
    const cuda = { name: 'cuda' as const, available: true, detail: 'an NVIDIA GPU' };
    expect(encodingDevices([cpu, cuda])).toEqual(['cuda', 'cpu']);
  });

  it('offers only the CPU where CUDA is not there', () => {
    const cuda = { name: 'cuda' as const, available: false, detail: 'no usable CUDA GPU' };
    expect(encodingDevices([cpu, cuda])).toEqual(['cpu']);
  });
});
