/** A size for messages: `512 bytes`, `64 KiB`, `1.5 MiB`. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 2 ** 20) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}
