import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/services.ts';
import { loadConfig } from './config.ts';
import { isPctrError } from './errors.ts';

describe('loadConfig', () => {
  it('gives defaults derived from the data directory', () => {
    const c = loadConfig({ env: { PCTR_DATA_DIR: '/tmp/x' } });
    expect(c.events.url).toBe('file:/tmp/x/events');
    expect(c.registry.url).toBe('sqlite:/tmp/x/registry.db');
    expect(c.join.attributionWindowMs).toBe(30 * 60_000);
    expect(c.gateway.apiKeys).toEqual([
      { key: 'dev-client', role: 'client' },
      { key: 'dev-admin', role: 'admin' },
    ]);
  });

  it('layers file < environment < overrides', () => {
    const t = tempDir('cfg');
    try {
      const file = `${t.dir}/c.json`;
      writeFileSync(file, JSON.stringify({ gateway: { port: 9000, host: '0.0.0.0' }, join: { attributionWindowMs: '10m' } }));
      const c = loadConfig({ env: { PCTR_PORT: '9100' }, file, overrides: { 'join.attributionWindowMs': '5m' } });
      expect(c.gateway.port).toBe(9100);
      expect(c.gateway.host).toBe('0.0.0.0');
      expect(c.join.attributionWindowMs).toBe(5 * 60_000);
    } finally {
      t.remove();
    }
  });

  it('names every bad field with its variable and source', () => {
    try {
      loadConfig({ env: { PCTR_PORT: 'abc', PCTR_ATTRIBUTION_WINDOW: 'soon', PCTR_EVENTS: 'nowhere' } });
      expect.unreachable();
    } catch (e) {
      expect(isPctrError(e, 'PCTR_CONFIG_INVALID')).toBe(true);
      const msg = (e as Error).message;
      expect(msg).toContain('gateway.port (PCTR_PORT, from $PCTR_PORT)');
      expect(msg).toContain('join.attributionWindowMs (PCTR_ATTRIBUTION_WINDOW');
      expect(msg).toContain('events.url (PCTR_EVENTS');
    }
  });

  it('reports an unreadable config file', () => {
    expect(() => loadConfig({ env: {}, file: '/nonexistent/pctr.json' })).toThrow(/cannot read config file/);
  });
});
