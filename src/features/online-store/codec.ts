/**
 * The packed form of one entity's feature vector, shared by every backend so they behave alike:
 * a 16-byte header (format, value count, layout hash, event time) then float32 values in the
 * layout's fixed name order. One value per entity is what lets Redis serve a whole request with one
 * MGET; the layout hash makes a reader with another layout see "unknown" instead of misread values.
 */
import { PctrError, hashString } from '../../core/index.ts';
import { ENTITY_LAYOUTS } from '../definitions.ts';
import type { FeatureVector } from './online-store.ts';

export const PACKED_FORMAT = 1;
export const HEADER_BYTES = 16;

/** Feature names per entity type. */
export type EntityLayouts = Readonly<Record<string, readonly string[]>>;

export class Layout {
  readonly hash: number;
  private readonly index = new Map<string, number>();

  constructor(
    readonly entity: string,
    readonly names: readonly string[],
  ) {
    this.hash = hashString(`${entity}:${names.join(',')}`);
    names.forEach((n, i) => this.index.set(n, i));
  }

  /** Values in layout order (NaN for names absent from `values`); unknown names are an error. */
  pack(values: FeatureVector, out: Float32Array): void {
    out.fill(NaN);
    for (const name in values) {
      const i = this.index.get(name);
      if (i === undefined) {
        throw new PctrError('PCTR_VALIDATION', `feature "${name}" is not in the layout of entity "${this.entity}" (${this.names.join(', ')})`, {
          details: { field: name, entity: this.entity },
        });
      }
      out[i] = values[name];
    }
  }

  /** A record of the non-NaN values of a packed vector. */
  unpack(values: ArrayLike<number>, offset = 0): FeatureVector {
    const out: Record<string, number> = {};
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      const v = values[offset + i];
      if (v === v) out[names[i]] = v;
    }
    return out;
  }

  encode(values: FeatureVector, ts: number, scratch: Float32Array): Buffer {
    this.pack(values, scratch);
    const n = this.names.length;
    const buf = Buffer.allocUnsafe(HEADER_BYTES + 4 * n);
    buf.writeUInt8(PACKED_FORMAT, 0);
    buf.writeUInt8(0, 1);
    buf.writeUInt16LE(n, 2);
    buf.writeUInt32LE(this.hash, 4);
    buf.writeDoubleLE(ts, 8);
    for (let i = 0; i < n; i++) buf.writeFloatLE(scratch[i], HEADER_BYTES + 4 * i);
    return buf;
  }

  /**
   * The values in `buf` into `out[at …]` in layout order (NaN for absent ones); false, leaving `out`
   * untouched, when it was written with another format or layout.
   */
  decodeInto(buf: Buffer, out: Float32Array, at: number): boolean {
    const n = this.names.length;
    if (buf.length !== HEADER_BYTES + 4 * n || buf[0] !== PACKED_FORMAT || buf.readUInt32LE(4) !== this.hash) return false;
    for (let i = 0; i < n; i++) out[at + i] = buf.readFloatLE(HEADER_BYTES + 4 * i);
    return true;
  }

  /** The vector in `buf`, or null when it was written with another format or layout. */
  decode(buf: Buffer): FeatureVector | null {
    const n = this.names.length;
    if (buf.length !== HEADER_BYTES + 4 * n || buf[0] !== PACKED_FORMAT || buf.readUInt32LE(4) !== this.hash) return null;
    const out: Record<string, number> = {};
    const names = this.names;
    for (let i = 0; i < n; i++) {
      const v = buf.readFloatLE(HEADER_BYTES + 4 * i);
      if (v === v) out[names[i]] = v;
    }
    return out;
  }
}

/** The layouts a store accepts, looked up by entity type. */
export class LayoutSet {
  private readonly byEntity = new Map<string, Layout>();
  readonly maxWidth: number;

  constructor(layouts: EntityLayouts = ENTITY_LAYOUTS) {
    for (const [entity, names] of Object.entries(layouts)) this.byEntity.set(entity, new Layout(entity, names));
    this.maxWidth = Math.max(0, ...[...this.byEntity.values()].map((l) => l.names.length));
  }

  get(entity: string): Layout {
    const layout = this.byEntity.get(entity);
    if (layout === undefined) {
      throw new PctrError('PCTR_VALIDATION', `unknown entity type "${entity}" (known: ${[...this.byEntity.keys()].join(', ')})`, {
        details: { field: 'entity', entity },
      });
    }
    return layout;
  }

  entities(): string[] {
    return [...this.byEntity.keys()];
  }
}
