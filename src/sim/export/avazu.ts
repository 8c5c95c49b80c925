/**
 * Avazu-shaped rows (CSV with header, 24 columns). As in the real data, a row is either a site
 * impression (with the "null app" triple) or an app impression (with the "null site" triple);
 * site/app domain and category follow from the site/app id; C17 follows from C14; C15×C16 is a
 * banner size. `hour` (YYMMDDHH) advances through `days` days from 2014-10-21 in row order.
 * The label's logit sums per-value effects, an hour-of-day curve and four interactions.
 */
import { hashPair } from '../../core/index.ts';
import { Rng } from '../rng.ts';
import type { ByteWriter } from './byte-writer.ts';
import { type CategoricalSpec, CategoricalField, interaction } from './categorical-field.ts';
import type { RowSource } from './row-source.ts';

export const AVAZU_HEADER =
  'id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21';

const COMMA = 44;
const NEWLINE = 10;
const AVAZU_START = Date.UTC(2014, 9, 21);
const APP_SHARE = 0.36;
/** Share of rows with the one very common device id. */
const COMMON_DEVICE_SHARE = 0.82;
const C20_MISSING = 0.47;

const ascii = (s: string) => new TextEncoder().encode(s);
const NULL_SITE = ['85f751fd', 'c4e18dd6', '50e219e0'].map(ascii);
const NULL_APP = ['ecad2386', '7801e8d9', '07d7df22'].map(ascii);
const COMMON_DEVICE = ascii('a99f214a');

const C1_VALUES = [1005, 1002, 1010, 1012, 1007, 1001, 1008];
const BANNER_POS = [0, 1, 7, 2, 4, 5, 3];
const DEVICE_TYPES = [1, 0, 4, 5, 2];
const CONN_TYPES = [0, 2, 3, 5];
const SIZES: readonly [number, number][] = [[320, 50], [300, 250], [216, 36], [728, 90], [120, 20], [480, 320], [1024, 768], [768, 1024], [320, 480]];
const C18_VALUES = [0, 3, 2, 1];

const w = (weights: number[], sigma: number): CategoricalSpec => ({ vocab: weights.length, zipf: 0, weights, sigma });
const z = (vocab: number, zipf: number, sigma: number): CategoricalSpec => ({ vocab, zipf, sigma });

const F = {
  c1: w([0.919, 0.055, 0.022, 0.0028, 0.0009, 0.0002, 0.0001], 0.2),
  bannerPos: w([0.72, 0.278, 0.001, 0.0003, 0.0002, 0.0001, 0.0001], 0.3),
  site: z(4000, 1.1, 0.5),
  siteDomain: z(2500, 0, 0.2),
  siteCategory: z(22, 0, 0.3),
  app: z(3000, 1.2, 0.5),
  appDomain: z(200, 0, 0.2),
  appCategory: z(30, 0, 0.3),
  deviceId: z(1_000_000, 0.5, 0.2),
  deviceIp: z(1_000_000, 0.9, 0.2),
  deviceModel: z(6000, 1.1, 0.25),
  deviceType: w([0.92, 0.055, 0.02, 0.005, 0.0001], 0.2),
  connType: w([0.86, 0.08, 0.05, 0.01], 0.2),
  c14: z(2500, 1.0, 0.4),
  size: w([0.93, 0.04, 0.015, 0.008, 0.003, 0.002, 0.001, 0.0005, 0.0005], 0.3),
  c17: z(420, 0, 0.2),
  c18: w([0.42, 0.34, 0.17, 0.07], 0.25),
  c19: z(68, 1.0, 0.2),
  c20: z(170, 1.0, 0.2),
  c21: z(60, 1.0, 0.25),
};
type FieldName = keyof typeof F;

/** A derived index in [0, n), skewed towards 0 (a few domains and categories are common). */
function derived(value: number, salt: number, n: number): number {
  const u = hashPair(value, salt) / 4294967296;
  return Math.floor(n * u * u);
}

/**
 * The low 9 digits of a row's id: row × 3^18 + c modulo 10^9, a bijection (3^18 is coprime with
 * 10^9), so ids look random but never repeat within 10^9 rows. The product is split so that it
 * stays exact in doubles.
 */
function scramble(row: number): number {
  const r = row % 1_000_000_000;
  return ((((r * 387) % 1000) * 1_000_000) + r * 420_489 + 12_345) % 1_000_000_000;
}

export class AvazuRows implements RowSource {
  readonly header = AVAZU_HEADER;
  private readonly f: Record<FieldName, CategoricalField>;
  private readonly v = {} as Record<FieldName, number>;
  private readonly salt: number;
  private readonly idHigh: number;
  private readonly hours: Uint8Array[];
  private isApp = false;
  private row = 0;
  private hourIndex = 0;

  constructor(seed: number, days: number) {
    const rng = new Rng(seed, 'avazu-model');
    this.salt = rng.u32();
    this.idHigh = 1_000_000_000 + rng.int(800_000_000);
    this.f = Object.fromEntries(Object.entries(F).map(([k, spec]) => [k, new CategoricalField(spec, rng.u32())])) as Record<FieldName, CategoricalField>;
    this.hours = Array.from({ length: days * 24 }, (_, h) => {
      const d = new Date(AVAZU_START + h * 3_600_000).toISOString();
      return ascii(d.slice(2, 4) + d.slice(5, 7) + d.slice(8, 10) + d.slice(11, 13));
    });
  }

  sample(rng: Rng, row: number, rows: number): number {
    const { f, v, salt } = this;
    this.row = row;
    this.hourIndex = Math.min(this.hours.length - 1, Math.floor((row * this.hours.length) / Math.max(1, rows)));
    this.isApp = rng.next() < APP_SHARE;
    let logit = 0.15 * Math.cos((2 * Math.PI * ((this.hourIndex % 24) - 14)) / 24);
    v.c1 = f.c1.sample(rng);
    v.bannerPos = f.bannerPos.sample(rng);
    if (this.isApp) {
      v.app = f.app.sample(rng);
      v.appDomain = derived(v.app, salt ^ 1, F.appDomain.vocab);
      v.appCategory = derived(v.app, salt ^ 2, F.appCategory.vocab);
      logit += f.app.effect(v.app) + f.appDomain.effect(v.appDomain) + f.appCategory.effect(v.appCategory) + 0.25;
    } else {
      v.site = f.site.sample(rng);
      v.siteDomain = derived(v.site, salt ^ 3, F.siteDomain.vocab);
      v.siteCategory = derived(v.site, salt ^ 4, F.siteCategory.vocab);
      logit += f.site.effect(v.site) + f.siteDomain.effect(v.siteDomain) + f.siteCategory.effect(v.siteCategory);
    }
    v.deviceId = rng.next() < COMMON_DEVICE_SHARE ? -1 : f.deviceId.sample(rng);
    v.deviceIp = f.deviceIp.sample(rng);
    v.deviceModel = f.deviceModel.sample(rng);
    v.deviceType = f.deviceType.sample(rng);
    v.connType = f.connType.sample(rng);
    v.c14 = f.c14.sample(rng);
    v.c17 = derived(v.c14, salt ^ 5, F.c17.vocab);
    v.size = f.size.sample(rng);
    v.c18 = f.c18.sample(rng);
    v.c19 = f.c19.sample(rng);
    v.c20 = rng.next() < C20_MISSING ? -1 : f.c20.sample(rng);
    v.c21 = f.c21.sample(rng);
    logit +=
      f.c1.effect(v.c1) + f.bannerPos.effect(v.bannerPos) + f.deviceId.effect(v.deviceId) + f.deviceIp.effect(v.deviceIp) +
      f.deviceModel.effect(v.deviceModel) + f.deviceType.effect(v.deviceType) + f.connType.effect(v.connType) + f.c14.effect(v.c14) +
      f.c17.effect(v.c17) + f.size.effect(v.size) + f.c18.effect(v.c18) + f.c19.effect(v.c19) + f.c20.effect(v.c20) + f.c21.effect(v.c21);
    const category = this.isApp ? 1000 + v.appCategory : v.siteCategory;
    logit += interaction(v.bannerPos, v.size, salt ^ 10, 0.3);
    logit += interaction(category, this.hourIndex % 24, salt ^ 11, 0.3);
    logit += interaction(v.c14, v.connType, salt ^ 12, 0.3);
    logit += interaction(category, v.deviceType, salt ^ 13, 0.3);
    return logit;
  }

  write(out: ByteWriter, label: number): void {
    const { f, v } = this;
    out.uint(this.idHigh);
    out.padded(scramble(this.row), 9);
    out.byte(COMMA);
    out.uint(label);
    out.byte(COMMA);
    out.bytes(this.hours[this.hourIndex]);
    out.byte(COMMA);
    out.uint(C1_VALUES[v.c1]);
    out.byte(COMMA);
    out.uint(BANNER_POS[v.bannerPos]);
    if (this.isApp) {
      for (const t of NULL_SITE) this.sep(out).bytes(t);
      this.sep(out).hex8(f.app.token(v.app));
      this.sep(out).hex8(f.appDomain.token(v.appDomain));
      this.sep(out).hex8(f.appCategory.token(v.appCategory));
    } else {
      this.sep(out).hex8(f.site.token(v.site));
      this.sep(out).hex8(f.siteDomain.token(v.siteDomain));
      this.sep(out).hex8(f.siteCategory.token(v.siteCategory));
      for (const t of NULL_APP) this.sep(out).bytes(t);
    }
    if (v.deviceId < 0) this.sep(out).bytes(COMMON_DEVICE);
    else this.sep(out).hex8(f.deviceId.token(v.deviceId));
    this.sep(out).hex8(f.deviceIp.token(v.deviceIp));
    this.sep(out).hex8(f.deviceModel.token(v.deviceModel));
    this.sep(out).uint(DEVICE_TYPES[v.deviceType]);
    this.sep(out).uint(CONN_TYPES[v.connType]);
    this.sep(out).uint(375 + (f.c14.token(v.c14) % 24_000));
    this.sep(out).uint(SIZES[v.size][0]);
    this.sep(out).uint(SIZES[v.size][1]);
    this.sep(out).uint(100 + (f.c17.token(v.c17) % 2_700));
    this.sep(out).uint(C18_VALUES[v.c18]);
    this.sep(out).uint(33 + (f.c19.token(v.c19) % 1_900));
    this.sep(out).int(v.c20 < 0 ? -1 : 100_000 + (f.c20.token(v.c20) % 150_000));
    this.sep(out).uint(1 + (f.c21.token(v.c21) % 250));
    out.byte(NEWLINE);
  }

  private sep(out: ByteWriter): ByteWriter {
    out.byte(COMMA);
    return out;
  }
}
