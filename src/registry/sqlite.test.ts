import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isPctrError, silentLogger } from '../core/index.ts';
import { registryContract } from '../../test/contracts/registry.contract.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { createRegistry } from './index.ts';
import { parseSqliteUrl } from './sqlite.ts';

registryContract('sqlite', async () => {
  const tmp = tempDir('registry');
  const url = `sqlite:${join(tmp.dir, 'state', 'registry.db')}`;
  const artifacts = join(tmp.dir, 'artifacts');
  return {
    url,
    artifacts,
    open: (extra) => createRegistry({ url, artifacts, logger: silentLogger, ...extra }),
    cleanup: async () => tmp.remove(),
  };
});

describe('sqlite registry backend', () => {
  it('parses sqlite:FILE and refuses in-memory databases', () => {
    expect(parseSqliteUrl('sqlite:/var/pctr/registry.db')).toMatchObject({ type: 'sqlite', file: '/var/pctr/registry.db' });
    expect(parseSqliteUrl('sqlite://rel/registry.db').file).toMatch(/\/rel\/registry\.db$/);
    for (const bad of ['sqlite:', 'sqlite::memory:']) {
      expect(() => parseSqliteUrl(bad)).toThrow(expect.objectContaining({ code: 'PCTR_CONFIG_INVALID' }));
    }
  });

  it('keeps the database in WAL mode and refuses one written by a newer schema', async () => {
    const tmp = tempDir('registry');
    try {
      const file = join(tmp.dir, 'registry.db');
      const url = `sqlite:${file}`;
      const reg = await createRegistry({ url, artifacts: join(tmp.dir, 'a'), logger: silentLogger });
      await reg.close();
      const db = new Database(file);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.prepare(`UPDATE registry_meta SET value = '99' WHERE key = 'schema_version'`).run();
      db.close();
      const err = await createRegistry({ url, artifacts: join(tmp.dir, 'a'), logger: silentLogger }).catch((e: unknown) => e);
      expect(isPctrError(err, 'PCTR_CONFIG_INVALID') && err.message).toMatch(/schema version 99, newer than this pctr understands/);
    } finally {
      tmp.remove();
    }
  });
});
