/** A size for messages: `512 bytes`, `64 KiB`, `1.5 MiB`. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 2 ** 20) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/** A size limit from config (`stagecoach.promotions.maxOutputBytes`): undefined when not set; throws naming the key when not a whole number above 0. */
export function readByteLimit(config: { getOptionalNumber(key: string): number | undefined }, key: string): number | undefined {
  const value = config.getOptionalNumber(key);
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new Error(`${key} must be a whole number of bytes above 0, got ${value}`);
  }
  return value;
}
