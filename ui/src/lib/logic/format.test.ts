import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatEta,
  formatMetric,
  formatPercent,
  formatSeconds,
  progressFraction,
} from './format';

describe('formatSeconds', () => {
  it('keeps fractions of short timings and falls back to minutes', () => {
    expect(formatSeconds(0.0412)).toBe('0.04 s');
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(65)).toBe('1m 05s');
    expect(formatSeconds(null)).toBe('–');
    expect(formatSeconds(-1)).toBe('–');
  });
});

describe('formatDuration', () => {
  it('uses the two largest units', () => {
    expect(formatDuration(4.2)).toBe('4s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3725)).toBe('1h 02m');
    expect(formatDuration(0)).toBe('0s');
  });
  it('rounds to whole seconds before splitting', () => {
    expect(formatDuration(59.6)).toBe('1m 00s');
  });
  it('shows a dash for unknown or invalid values', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(undefined)).toBe('–');
    expect(formatDuration(-3)).toBe('–');
    expect(formatDuration(Number.NaN)).toBe('–');
  });
});

describe('formatEta', () => {
  it('says estimating before the first epoch is timed', () => {
    expect(formatEta(null)).toBe('estimating…');
  });
  it('formats the remaining time', () => {
    expect(formatEta(125)).toBe('about 2m 05s left');
    expect(formatEta(0.3)).toBe('almost done');
  });
});

describe('metrics and counts', () => {
  it('formats shares as percentages', () => {
    expect(formatPercent(0.4567)).toBe('45.67%');
    expect(formatPercent(1, 0)).toBe('100%');
    expect(formatPercent(null)).toBe('–');
  });
  it('formats metrics and counts', () => {
    expect(formatMetric(0.52312)).toBe('0.523');
    expect(formatMetric(null)).toBe('–');
    expect(formatCount(40123)).toBe('40,123');
  });
  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });
});

describe('progressFraction', () => {
  it('counts finished epochs plus the share of the current one', () => {
    expect(progressFraction(1, 10, 0, 4)).toBe(0);
    expect(progressFraction(1, 10, 2, 4)).toBeCloseTo(0.05);
    expect(progressFraction(3, 4, 4, 4)).toBe(0.75);
  });
  it('stays within [0, 1]', () => {
    expect(progressFraction(12, 10, 5, 4)).toBe(1);
    expect(progressFraction(1, 0, 1, 1)).toBe(0);
  });
});
