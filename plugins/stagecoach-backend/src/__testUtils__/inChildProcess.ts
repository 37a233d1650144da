import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Calls an exported function of one of the backend's modules in a Node process of its own
 * and resolves with what it returns (arguments and result go through JSON).
 *
 * For tests of code that could block the event loop (a backtracking regex): in the test's
 * own process such a call would freeze jest, and its timeout could never fire; here the test
 * waits on the child's answer instead, so code that blocks fails the test by jest's timeout.
 * `endChildCalls` (in afterEach) kills a child still running then: a thread could not be
 * stopped inside V8's regex engine, a process can.
 */
const running = new Set<ChildProcess>();

export async function callInChildProcess<T>(modulePath: string, exportName: string, args: unknown[]): Promise<T> {
  const code = `
    const call = JSON.parse(process.env.STAGECOACH_TEST_CALL);
    require(call.transform);
    const result = require(call.modulePath)[call.exportName](...call.args);
    process.stdout.write(JSON.stringify(result === undefined ? null : result));
  `;
  const call = {
    transform: require.resolve('@backstage/cli/config/nodeTransform.cjs'),
    modulePath: path.resolve(modulePath),
    exportName,
    args,
  };
  const child = spawn(process.execPath, ['-e', code], {
    env: { ...process.env, STAGECOACH_TEST_CALL: JSON.stringify(call) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', d => (out += d));
  child.stderr!.on('data', d => (err += d));
  try {
    return await new Promise<T>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', exitCode => {
        if (exitCode === 0) resolve(JSON.parse(out) as T);
        else reject(new Error(`${exportName} in ${modulePath} failed (exit ${exitCode}): ${err.trim()}`));
      });
    });
  } finally {
    running.delete(child);
  }
}

/** Kills the children of calls that have not answered (their test timed out). */
export function endChildCalls(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
