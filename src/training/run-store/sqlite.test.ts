import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStoreContract } from '../../../test/contracts/run-store.contract.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { isPctrError } from '../../core/index.ts';
import { createRunStore, parseRunStoreUrl } from './index.ts';

const dirs: { remove: () => void }[] = [];
let n = 0;

runStoreContract('sqlite', {
  create: async () => {
    const t = tempDir('runs');
    dirs.push(t);
    return createRunStore(`sqlite:${join(t.dir, `runs-${n++}.db`)}`);
  },
  cleanup: async () => {
    for (const d of dirs.splice(0)) d.remove();
  },
});

describe('run store URLs', () => {
  it('picks the backend by scheme and refuses others clearly', () => {
    expect(parseRunStoreUrl('sqlite:./x/runs.db')).toMatchObject({ type: 'sqlite' });
    expect(parseRunStoreUrl('postgres://u@h:5432/db?schema=s1&pool=3')).toMatchObject({ type: 'postgres', schema: 's1', location: 'postgres://u@h:5432/db?schema=s1' });
    for (const bad of ['redis://h', 'sqlite:', 'sqlite::memory:', 'postgres://h/db?schema=Bad-Name']) {
      let err: unknown;
      try {
        parseRunStoreUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(isPctrError(err, 'PCTR_CONFIG_INVALID'), bad).toBe(true);
    }
  });

  it('keeps runs across reopening the file (another process reading history)', async () => {
    const t = tempDir('runs-reopen');
    try {
      const url = `sqlite:${join(t.dir, 'runs.db')}`;
      const a = await createRunStore(url);
      await a.createRun({ id: 'x', pipeline: 'batch', trigger: 'manual', range: null, params: {}, steps: ['s'] });
      const b = await createRunStore(url);
      expect((await b.getRun('x')).id).toBe('x');
      await a.close();
      await b.close();
    } finally {
      t.remove();
    }
  });
});
