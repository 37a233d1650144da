import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { tomlParse } from './toml-parse';

/** A Cargo manifest of the kind a promotion reads its version from. */
const CARGO_TOML = `# the service's manifest
[package]
name = "billing"
version = "2.4.1"
edition = "2021"
released = 2024-05-27
built = 2024-05-27T07:32:00Z

[dependencies]
serde = { version = "1.0", features = ["derive"] }
tokio = "1.38"

[[bin]]
name = "billing-api"
path = "src/main.rs"

[[bin]]
name = "billing-worker"
path = "src/worker.rs"

[limits]
max_bytes = 9007199254740993
ratio = 0.75
`;

describe('toml-parse', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    await writeTree(work.dir, { 'svc/Cargo.toml': CARGO_TOML, 'bad.toml': 'name = "x"\nname = "y"\n' });
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown) => runStep(tomlParse, config, { workDir: work.dir });

  it('each output is an expression over the document, its top-level tables as names', async () => {
    const result = await run({
      path: './svc/Cargo.toml',
      outputs: [
        { name: 'version', fromExpression: 'package.version' },
        { name: 'image', fromExpression: '"ghcr.io/acme/" + package.name + ":v" + package.version' },
        { name: 'lastBin', fromExpression: 'bin[-1].name' },
        { name: 'serde', fromExpression: 'dependencies.serde' },
        { name: 'whole', fromExpression: 'outputs.limits.ratio * 4' },
        { name: 'absent', fromExpression: 'package.digest' },
      ],
    });
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'read version, image, lastBin, serde, whole, absent from ./svc/Cargo.toml',
      outputs: {
        version: '2.4.1',
        image: 'ghcr.io/acme/billing:v2.4.1',
        lastBin: 'billing-worker',
        serde: { version: '1.0', features: ['derive'] },
        whole: 3,
        absent: null,
      },
    });
  });

  it('gives dates as their TOML text and integers past 2^53 as their exact digits', async () => {
    const result = await run({
      path: 'svc/Cargo.toml',
      outputs: [
        { name: 'released', fromExpression: 'package.released' },
        { name: 'built', fromExpression: 'package.built' },
        { name: 'max', fromExpression: 'limits.max_bytes' },
      ],
    });
    expect(result.outputs).toEqual({ released: '2024-05-27', built: '2024-05-27T07:32:00Z', max: '9007199254740993' });
  });

  it('says what is wrong: invalid TOML with its position, a missing file, a bad expression', async () => {
    await expect(run({ path: 'bad.toml', outputs: [{ name: 'n', fromExpression: 'name' }] })).rejects.toThrow(
      '"bad.toml" is not valid TOML: Value already defined for name at line 2, column 1',
    );
    await expect(run({ path: 'nope.toml', outputs: [{ name: 'n', fromExpression: 'name' }] })).rejects.toThrow(
      'path "nope.toml" does not exist',
    );
    await expect(run({ path: 'svc/Cargo.toml', outputs: [{ name: 'n', fromExpression: 'package.(' }] })).rejects.toThrow(
      /^output "n": /,
    );
    await expect(run({ path: 'svc/Cargo.toml', outputs: [] })).rejects.toThrow('config.outputs: needs at least one output');
    await expect(run({ path: 'x/.git/config', outputs: [{ name: 'n', fromExpression: 'a' }] })).rejects.toThrow(
      "path \"x/.git/config\" is in git's own files (.git), which steps never read",
    );
  });
});
