import { describe, expect, it } from 'vitest';
import { recordSource } from '../record-buffer.ts';
import { FRAME_CORRUPT, FRAME_INCOMPLETE, checkFrame, frameKey, frameValue, maxFrameBytes, writeFrame } from './frame.ts';

describe('frame', () => {
  it('round-trips keys and values of every kind: empty, ASCII, multi-byte, at and past the short-key paths', () => {
    const keys = ['', 'sim7.i0', 'k'.repeat(64), 'k'.repeat(65), 'ü-名前-😀', `${'x'.repeat(40)}é`, 'é'.repeat(70)];
    const values = ['', '{"ts":1}', `{"v":"${'é😀'.repeat(50)}"}`, 'x'.repeat(300)];
    const records = keys.flatMap((key) => values.map((value) => ({ key, value })));
    const src = recordSource(records);
    const buf = Buffer.alloc(records.reduce((n, _, i) => n + maxFrameBytes(src, i), 0) + 3);
    buf.fill(0xee);
    const starts: number[] = [];
    let pos = 3;
    for (let i = 0; i < records.length; i++) {
      starts.push(pos);
      pos = writeFrame(buf, pos, src, i);
    }
    for (let i = 0; i < records.length; i++) {
      const total = checkFrame(buf, starts[i], pos);
      expect(total).toBe((starts[i + 1] ?? pos) - starts[i]);
      expect(frameKey(buf, starts[i])).toBe(records[i].key);
      expect(frameValue(buf, starts[i], total)).toBe(records[i].value);
    }
  });

  it('reports a cut frame as incomplete and a flipped bit as corrupt', () => {
    const src = recordSource([{ key: 'k1', value: '{"type":"click","ts":5}' }]);
    const buf = Buffer.alloc(maxFrameBytes(src, 0));
    const end = writeFrame(buf, 0, src, 0);
    expect(checkFrame(buf, 0, end - 1)).toBe(FRAME_INCOMPLETE);
    buf[end - 3] ^= 0x10;
    expect(checkFrame(buf, 0, end)).toBe(FRAME_CORRUPT);
  });
});
