import fs from 'node:fs';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { parseAllDocuments } from 'yaml';
import { readWebhookReceivers, validateWebhookReceivers, WebhookConfigError } from './config';

describe('webhook receiver configuration', () => {
  it('reads stagecoach.webhooks.receivers, or none', () => {
    const config = new ConfigReader({
      stagecoach: {
        webhooks: {
          receivers: [
            { name: 'github-main', type: 'github', secret: 's3cret-value' },
            { name: 'hub', type: 'dockerhub', secret: 'url-safe_secret.1~' },
          ],
        },
      },
    });
    expect(readWebhookReceivers(config)).toEqual([
      { name: 'github-main', type: 'github', secret: 's3cret-value' },
      { name: 'hub', type: 'dockerhub', secret: 'url-safe_secret.1~' },
    ]);
    expect(readWebhookReceivers(new ConfigReader({}))).toEqual([]);
  });

  it('lists every problem, naming the entry and never a secret', () => {
    const secretWithSlash = 'has/slash-and-a-secret';
    let error: WebhookConfigError | undefined;
    try {
      validateWebhookReceivers([
        { name: 'a', type: 'gitlabb', secret: 'x' },
        { name: 'b', type: 'github' },
        { name: 'c', type: 'quay', secret: secretWithSlash },
        { name: 'a', type: 'github', secret: 'y' },
        { name: 'bad name', type: 'github', secret: 'z', token: 'q' },
        'github',
      ]);
    } catch (e) {
      error = e as WebhookConfigError;
    }
    expect(error).toBeInstanceOf(WebhookConfigError);
    expect(error!.problems).toEqual([
      '[0] (a): type "gitlabb" is not supported; use one of github, gitlab, gitea, bitbucket, dockerhub, harbor, quay, distribution, generic',
      '[1] (b): secret is missing or empty (is the environment variable it refers to set?)',
      "[2] (c): the secret of a quay receiver is part of the URL, so it may only contain letters, digits, '.', '_', '~' and '-'",
      '[3] (a): name is used by another receiver',
      "[4] (bad name): name must be letters, digits, '.', '_' or '-' (it is part of the URL), at most 63 characters",
      '[4] (bad name): unknown field(s) token; a receiver has name, type and secret',
      '[5] must be an object with name, type and secret',
    ]);
    expect(error!.message).not.toContain(secretWithSlash);
  });

  it('needs a list', () => {
    expect(() => validateWebhookReceivers({ name: 'x' })).toThrow(/must be a list of receivers/);
  });
});

describe('docs/webhooks.md', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../../../../docs/webhooks.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map(m => m[1]);
  // what Backstage does with ${VAR} at startup
  const substituted = blocks.map(b => b.replace(/\$\{[A-Z_]+\}/g, 'c0ffee0123456789abcdef'));
  // a block may hold several documents (a project's receivers: a ProjectConfig and its Secret)
  const configs = substituted.flatMap(b => [...parseAllDocuments(b)].map(d => d.toJS())).filter(v => v?.stagecoach?.webhooks);

  it('configures every receiver type in a valid example', () => {
    const receivers = configs.flatMap(c => readWebhookReceivers(new ConfigReader(c)));
    expect(new Set(receivers.map(r => r.type)).size).toBe(9);
  });
});
