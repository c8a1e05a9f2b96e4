// How the page and the server's own messages write a size, so that a file listed as "1.5 KB" beside the
// composer and a quota refusal speak the same units.

/** "512 bytes", "2 KB", "3.4 KB", "12 MB": a size as people read it (1 KB = 1,024 bytes, as file managers count). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  // Rounded as it will be written: 1,048,575 bytes is "1 MB", not "1024 KB".
  const shown = (v: number) => (v < 10 ? Number(v.toFixed(1)) : Math.round(v));
  while (shown(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${shown(value)} ${units[unit]}`;
}
