import type { SideOverviewDto, RunDto } from '../lib/backend/types';

export function run(overrides: Partial<RunDto> & { id: number }): RunDto {
  return {
    dataset_id: 1,
    model: 'loginmea',
    status: 'completed',
    device: 'cpu',
    device_label: 'CPU (ndarray)',
    seed: 42,
    code_version: 'test',
    created_at: 1_700_000_000_000 + overrides.id * 1000,
    started_at: null,
    finished_at: null,
    epochs_done: 10,
    epochs_planned: 10,
    best_epoch: null,
    hits_at_1: null,
    hits_at_10: null,
    mrr: null,
    mr: null,
    metrics: null,
    error: null,
    config: null,
    run_dir: `/tmp/runs/${overrides.id}`,
    seeds_from: null,
    peak_memory_mib: null,
    seconds_per_epoch: null,
    best_hits_at_1: null,
    best_hits_at_10: null,
    best_mrr: null,
    best_valid_hits_at_1: null,
    ...overrides,
  };
}

export function graphOverview(
  side: 'left' | 'right',
  overrides: Partial<SideOverviewDto> = {},
): SideOverviewDto {
  return {
    side,
    entities: 100,
    triples: 300,
    relations: 12,
    attribute_triples: 50,
    degree_histogram: [],
    coverage: { with_relations: 90, with_attributes: 40, with_images: 25, with_image_features: 20 },
    ...overrides,
  };
}
