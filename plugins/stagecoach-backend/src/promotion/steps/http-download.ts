import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { confinedPath, StepConfigError } from '../workDir';
import {
  HttpExchangeError,
  isSuccessStatus,
  mebibytes,
  shownRequestUrl,
  statusLine,
  streamBody,
} from '../../integrations/http/exchange';
import { durationSchema, headersSchema, httpUrlSchema, queryParamsSchema } from '../../integrations/http/requestFields';
import { stepExchange } from './stepExchange';
import { StepDefinition, StepResult } from './types';

/** As in Kargo: large enough for charts and manifests bundles, small enough to protect the disk. */
const MAX_DOWNLOAD_BYTES = 100 * 2 ** 20;

const schema = z
  .object({
    url: httpUrlSchema,
    outPath: z.string().min(1),
    allowOverwrite: z.boolean().default(false),
    headers: headersSchema,
    queryParams: queryParamsSchema,
    insecureSkipTLSVerify: z.boolean().default(false),
    timeout: durationSchema.default('5m'),
  })
  .strict();

type DownloadConfig = z.infer<typeof schema>;

interface Saved {
  size: number;
}

/** Why outPath cannot be written to, or undefined. */
async function outPathProblem(target: string, config: DownloadConfig): Promise<StepResult | undefined> {
  const existing = await fs.lstat(target).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new StepConfigError(`outPath "${config.outPath}" is a directory; name the file to write`);
  }
  if (existing && !config.allowOverwrite) {
    return { status: 'Failed', message: `outPath "${config.outPath}" already exists; set allowOverwrite: true to replace it` };
  }
  return undefined;
}

/**
 * Writes the body to a hidden file beside outPath and returns its size. The caller renames
 * it into place only once it is complete, so outPath never holds half a download.
 */
async function saveBody(response: Response, what: string, partial: string, outPath: string): Promise<number> {
  await fs.mkdir(path.dirname(partial), { recursive: true });
  const file = await fs.open(partial, 'wx');
  try {
    return await streamBody(response, MAX_DOWNLOAD_BYTES, what, async chunk => {
      try {
        await file.write(chunk);
      } catch (e) {
        throw new HttpExchangeError(`cannot write outPath "${outPath}": ${(e as Error).message}`);
      }
    });
  } finally {
    await file.close();
  }
}

/** Downloads a file into the work directory, streaming it to disk. */
export const httpDownload: StepDefinition<DownloadConfig> = {
  name: 'http-download',
  description: 'Download a file over HTTP(S) into the work directory.',
  schema,
  async run(ctx, config) {
    const target = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const refused = await outPathProblem(target, config);
    if (refused) return refused;
    const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.download`);
    const spec = { ...config, method: 'GET' };
    try {
      const outcome = await stepExchange<StepResult | Saved>(ctx, spec, async (res, what) => {
        if (!isSuccessStatus(res.status)) {
          await res.body?.cancel().catch(() => undefined);
          return { status: 'Failed', message: `${what} answered ${statusLine(res.status)}` };
        }
        return { size: await saveBody(res, what, partial, config.outPath) };
      });
      if ('status' in outcome) return outcome;
      await fs.rename(partial, target);
      return {
        status: 'Succeeded',
        message: `downloaded ${shownRequestUrl(config)} to ${config.outPath} (${outcome.size < 2 ** 20 ? `${outcome.size} bytes` : mebibytes(outcome.size)})`,
      };
    } finally {
      await fs.rm(partial, { force: true });
    }
  },
};
