import { describe, expect, it } from 'vitest';
import { duration, figure, num, numTick, pct, pctTick, timeTick } from './format.ts';

describe('dashboard number formatting', () => {
  it('shortens large numbers and keeps small ones readable', () => {
    expect(num(1234)).toBe('1,234');
    expect(num(12_345)).toBe('12.3k');
    expect(num(1_234_567)).toBe('1.23M');
    expect(num(0.012345)).toBe('0.0123');
    expect(num(250.4)).toBe('250');
    expect(num(null)).toBe('—');
    expect(num(NaN)).toBe('—');
  });

  it('formats rates as percentages', () => {
    expect(pct(0.01234)).toBe('1.23%');
    expect(pct(undefined)).toBe('—');
  });

  it('picks the unit of a duration and never shows a zero remainder', () => {
    expect(duration(4.25)).toBe('4.3 ms');
    expect(duration(850)).toBe('850 ms');
    expect(duration(4200)).toBe('4.2 s');
    expect(duration(60_000)).toBe('1 m');
    expect(duration(200_000)).toBe('3 m 20 s');
    expect(duration(119_700)).toBe('2 m');
    expect(duration(3_600_000)).toBe('1 h');
    expect(duration(7_500_000)).toBe('2 h 5 m');
  });

  it('formats overview figures by their unit', () => {
    expect(figure(2.13, '%')).toBe('2.13%');
    expect(figure(95, 's')).toBe('1 m 35 s');
    expect(figure(4.2, 'ms')).toBe('4.2 ms');
    expect(figure(1843, 'req/s')).toBe('1,843 req/s');
    expect(figure('ctr@7')).toBe('ctr@7');
    expect(figure('—', 's')).toBe('—');
  });

  it('gives axis ticks just enough decimals to tell them apart', () => {
    expect([0.02, 0.025, 0.03].map((v) => pctTick(v, 0.005))).toEqual(['2.0%', '2.5%', '3.0%']);
    expect([0, 0.2, 0.4].map((v) => numTick(v, 0.2))).toEqual(['0.0', '0.2', '0.4']);
    expect([0, 5, 10].map((v) => numTick(v, 5))).toEqual(['0', '5', '10']);
    const t = new Date(2024, 0, 1, 14, 5, 9).getTime() / 1000;
    expect(timeTick(t, 300)).toBe('14:05');
    expect(timeTick(t, 10)).toBe('14:05:09');
  });
});
