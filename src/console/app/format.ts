// Display helpers: dates in the reader's locale, sizes in binary units.

/** ISO 8601 text or epoch milliseconds, in the reader's locale; `—` when absent. */
export function formatTime(instant: string | number | null | undefined): string {
  if (instant === null || instant === undefined || instant === '') return '—';
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? String(instant) : date.toLocaleString();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The first 12 characters of a long id or digest; the full value goes in a title. */
export function shorten(value: string, length = 12): string {
  return value.length > length + 1 ? value.slice(0, length) + '…' : value;
}
