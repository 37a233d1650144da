import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { jsonParse } from './json-parse';
import { yamlParse } from './yaml-parse';

describe('yaml-parse and json-parse', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    await writeTree(work.dir, {
      'src/values.yaml': [
        '# chart values',
        'image:',
        '  repository: ghcr.io/acme/app',
        '  tag: "v1.2.3"',
        'replicas: 2',
        'ingress:',
        '  hosts: [a.example.com, b.example.com]',
        '',
      ].join('\n'),
      'src/config.json': '{"image": {"tag": "v1.2.3"}, "apps": {"dev": {"replicas": 1}}, "outputs": "a key of its own"}',
      'src/list.json': '[{"name": "a"}, {"name": "b"}]',
    });
  });
  afterEach(() => work.cleanup());

  it('yaml-parse: each output is an expression over the document, its top-level fields as names', async () => {
    const result = await runStep(
      yamlParse,
      {
        path: './src/values.yaml',
        outputs: [
          { name: 'imageTag', fromExpression: 'image.tag' },
          { name: 'image', fromExpression: 'image.repository + ":" + image.tag' },
          { name: 'lastHost', fromExpression: 'ingress.hosts[-1]' },
          { name: 'scaled', fromExpression: 'replicas * 2' },
          { name: 'whole', fromExpression: 'outputs.image' },
          { name: 'absent', fromExpression: 'image.digest' },
        ],
      },
      { workDir: work.dir },
    );
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'read imageTag, image, lastHost, scaled, whole, absent from ./src/values.yaml',
      outputs: {
        imageTag: 'v1.2.3',
        image: 'ghcr.io/acme/app:v1.2.3',
        lastHost: 'b.example.com',
        scaled: 4,
        whole: { repository: 'ghcr.io/acme/app', tag: 'v1.2.3' },
        absent: null,
      },
    });
  });

  it('json-parse: the same over a JSON file; a field named "outputs" is the file\'s own', async () => {
    const result = await runStep(
      jsonParse,
      {
        path: 'src/config.json',
        outputs: [
          { name: 'imageTag', fromExpression: 'image.tag' },
          { name: 'devReplicas', fromExpression: 'apps["dev"].replicas' },
          { name: 'own', fromExpression: 'outputs' },
        ],
      },
      { workDir: work.dir },
    );
    expect(result.outputs).toEqual({ imageTag: 'v1.2.3', devReplicas: 1, own: 'a key of its own' });
  });

  it('json-parse: a document that is a list is read through "outputs"', async () => {
    const result = await runStep(
      jsonParse,
      { path: 'src/list.json', outputs: [{ name: 'second', fromExpression: 'outputs[1].name' }] },
      { workDir: work.dir },
    );
    expect(result.outputs).toEqual({ second: 'b' });
  });

  it('names the file and the position when it is not valid', async () => {
    await writeTree(work.dir, {
      'bad.yaml': 'image:\n  tag: v1\n   repository: x\n',
      'bad.json': '{\n  "a": 1,\n  // no comments in JSON\n}\n',
      'two.yaml': 'a: 1\n---\nb: 2\n',
    });
    const outputs = [{ name: 'a', fromExpression: 'a' }];
    await expect(runStep(yamlParse, { path: 'bad.yaml', outputs }, { workDir: work.dir })).rejects.toThrow(
      '"bad.yaml" is not valid YAML: Nested mappings are not allowed in compact mappings at line 2, column 8',
    );
    await expect(runStep(jsonParse, { path: 'bad.json', outputs }, { workDir: work.dir })).rejects.toThrow(
      '"bad.json" is not valid JSON: invalid comment token at line 3, column 3',
    );
    await expect(runStep(yamlParse, { path: 'two.yaml', outputs }, { workDir: work.dir })).rejects.toThrow(
      '"two.yaml" holds 2 YAML documents; this step reads a file with one',
    );
  });

  it('says which output\'s expression failed, and why', async () => {
    await expect(
      runStep(
        yamlParse,
        { path: 'src/values.yaml', outputs: [{ name: 'tag', fromExpression: 'images.tag' }] },
        { workDir: work.dir },
      ),
    ).rejects.toThrow('output "tag": in "images.tag": unknown name "images" (known: image, ingress, outputs, replicas)');
    await expect(
      runStep(
        jsonParse,
        { path: 'src/config.json', outputs: [{ name: 'x', fromExpression: 'image.tag.major.minor' }] },
        { workDir: work.dir },
      ),
    ).rejects.toThrow(/^output "x": in "image.tag.major.minor": /);
  });

  it('refuses a missing file, a path outside the work directory and unknown fields', async () => {
    const outputs = [{ name: 'a', fromExpression: 'a' }];
    await expect(runStep(yamlParse, { path: 'nope.yaml', outputs }, { workDir: work.dir })).rejects.toThrow(
      'path "nope.yaml" does not exist',
    );
    await expect(runStep(jsonParse, { path: '../x.json', outputs }, { workDir: work.dir })).rejects.toThrow(
      'path "../x.json" leaves the promotion\'s work directory',
    );
    await expect(
      runStep(jsonParse, { path: 'src/config.json', outputs: [{ name: 'a', expression: 'a' }] }, { workDir: work.dir }),
    ).rejects.toThrow(/expression/);
    await expect(runStep(yamlParse, { path: 'src/values.yaml', outputs: [] }, { workDir: work.dir })).rejects.toThrow(
      'needs at least one output',
    );
  });
});
