// Number, duration and date formatting.

/** `3725` -> `1h 02m`, `65` -> `1m 05s`, `4.2` -> `4s`; null/negative/NaN -> `–`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '–';
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** A short timing: `0.04 s`, `12.3 s` under a minute, else as [`formatDuration`]. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return '–';
  }
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return formatDuration(seconds);
}

/** The ETA label of a progress event: `about 1m 05s left`, or `estimating…` before timing. */
export function formatEta(etaSeconds: number | null | undefined): string {
  if (etaSeconds === null || etaSeconds === undefined || !Number.isFinite(etaSeconds)) {
    return 'estimating…';
  }
  if (etaSeconds < 1) return 'almost done';
  return `about ${formatDuration(etaSeconds)} left`;
}

/** A share in [0, 1] as a percentage (`0.4567` -> `45.67%`). */
export function formatPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${(value * 100).toFixed(digits)}%`;
}

/** A metric with fixed decimals (`0.52312` -> `0.523`). */
export function formatMetric(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(digits);
}

/** Thousands separators (`40123` -> `40,123`). */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US');
}

/** Bytes in binary units (`1536` -> `1.5 KiB`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Unix ms as local `YYYY-MM-DD HH:MM`. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Overall fraction done of a run from a progress event (epochs are 1-based). */
export function progressFraction(
  epoch: number,
  epochs: number,
  batch: number,
  batches: number,
): number {
  if (epochs <= 0) return 0;
  const within = batches > 0 ? Math.min(1, Math.max(0, batch / batches)) : 0;
  const f = (Math.max(0, epoch - 1) + within) / epochs;
  return Math.min(1, Math.max(0, f));
}
