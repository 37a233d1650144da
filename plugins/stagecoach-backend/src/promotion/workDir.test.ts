import path from 'node:path';
import { redactSecrets } from '../util/secrets';
import { resolveInWorkDir } from './workDir';

describe('paths and secrets', () => {
  it('keeps step paths inside the work directory', () => {
    expect(resolveInWorkDir('/tmp/w', './out/values.yaml')).toBe(path.join('/tmp/w', 'out/values.yaml'));
    expect(() => resolveInWorkDir('/tmp/w', '../etc/passwd')).toThrow('path "../etc/passwd" leaves the promotion\'s work directory');
    expect(() => resolveInWorkDir('/tmp/w', 'out/../../x')).toThrow(/leaves/);
    expect(() => resolveInWorkDir('/tmp/w', '/etc/passwd')).toThrow(/must be relative/);
  });

  it('removes credentials from messages', () => {
    expect(redactSecrets("fatal: unable to access 'https://ci:s3cret@git.example.com/a.git/': 403")).toBe(
      "fatal: unable to access 'https://***@git.example.com/a.git/': 403",
    );
    expect(redactSecrets('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ***');
  });
});
