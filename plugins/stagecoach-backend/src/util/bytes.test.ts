import { ConfigReader } from '@backstage/config';
import { byteSize, readByteLimit } from './bytes';

describe('byte sizes', () => {
  it('reads as people write them', () => {
    expect([byteSize(512), byteSize(64 * 1024), byteSize(1.5 * 2 ** 20)]).toEqual(['512 bytes', '64 KiB', '1.5 MiB']);
  });

  it('a limit in config is a whole number above 0, or start-up stops naming the key', () => {
    const config = (v: number) => new ConfigReader({ stagecoach: { promotions: { maxOutputBytes: v } } });
    expect(readByteLimit(config(2048), 'stagecoach.promotions.maxOutputBytes')).toBe(2048);
    expect(readByteLimit(new ConfigReader({}), 'stagecoach.promotions.maxOutputBytes')).toBeUndefined();
    expect(() => readByteLimit(config(0), 'stagecoach.promotions.maxOutputBytes')).toThrow(
      'stagecoach.promotions.maxOutputBytes must be a whole number of bytes above 0, got 0',
    );
  });
});
