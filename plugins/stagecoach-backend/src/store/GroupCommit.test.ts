import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { Knex } from 'knex';
import { createTestDatabases } from '../__testUtils__/databases';
import { GroupCommit } from './GroupCommit';
import { tuneSqlite } from './sqliteTuning';

async function notesTable(knex: Knex) {
  await knex.schema.dropTableIfExists('group_commit_notes');
  await knex.schema.createTable('group_commit_notes', t => {
    t.string('id').primary();
  });
}

function countTransactions(knex: Knex): () => number {
  let begun = 0;
  knex.on('query', (q: { sql?: string }) => {
    if (/^\s*begin/i.test(q.sql ?? '')) begun++;
  });
  return () => begun;
}

describe('GroupCommit', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())('writes units submitted together in fewer commits, on %p', async id => {
    const knex = await databases.init(id);
    await notesTable(knex);
    const transactions = countTransactions(knex);
    const writes = new GroupCommit(knex);

    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        writes.run(async tx => {
          await tx('group_commit_notes').insert({ id: `n${i}` });
          return `n${i}`;
        }),
      ),
    );

    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    expect(Number((await knex('group_commit_notes').count({ n: '*' }))[0].n)).toBe(50);
    // the first unit starts alone, everything submitted meanwhile goes in the next commit
    expect(transactions()).toBeLessThanOrEqual(3);
  });

  it.each(databases.eachSupportedId())('fails only the unit that failed, whose writes are rolled back, on %p', async id => {
    const knex = await databases.init(id);
    await notesTable(knex);
    const writes = new GroupCommit(knex);

    const outcomes = await Promise.allSettled(
      ['a', 'b', 'bad', 'c'].map(name =>
        writes.run(async tx => {
          await tx('group_commit_notes').insert({ id: name });
          if (name === 'bad') throw new Error('the bad unit failed after writing');
          return name;
        }),
      ),
    );

    expect(outcomes.map(o => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('the bad unit failed after writing');
    const kept = (await knex('group_commit_notes').orderBy('id').select('id')).map(r => r.id);
    expect(kept).toEqual(['a', 'b', 'c']);
  });
});

describe('tuneSqlite', () => {
  it('turns on write-ahead logging for an SQLite file, and leaves in-memory databases alone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-sqlite-'));
    const file = knexFactory({ client: 'better-sqlite3', connection: { filename: path.join(dir, 'db.sqlite') }, useNullAsDefault: true });
    const memory = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
    try {
      await tuneSqlite(file);
      await tuneSqlite(memory);
      expect(await file.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      // 1 = NORMAL
      expect(await file.raw('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
      expect(await memory.raw('PRAGMA journal_mode')).toEqual([{ journal_mode: 'memory' }]);
    } finally {
      await file.destroy();
      await memory.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
