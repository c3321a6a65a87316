import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, PROTOCOL_VERSION, type Message } from './protocol.js';

const pack = (x: unknown) => new Packr({ useRecords: false }).pack(x);

describe('message headers', () => {
  it('round-trip every message type', () => {
    const messages: Message[] = [
      { t: 'HELLO', v: PROTOCOL_VERSION, worker: 'w1', caps: { pid: 12, host: 'h' } },
      {
        t: 'WELCOME',
        v: 1,
        run: 'r',
        rank: 2,
        version: 5,
        heartbeatMs: 1000,
        layout: { entries: [{ name: 'w', shape: [2], offset: 0, size: 2 }], size: 2 },
      },
      { t: 'STEP', step: 3, shard: 1, version: 2, params: true, items: [4, 5, 6] },
      { t: 'STEP', step: 3, shard: 1, version: 2, params: false, items: [4, 5, 6], next: [7, 8] },
      { t: 'GRADS', step: 3, shard: 1, lossSum: 1.25, count: 3, computeMs: 12.5 },
      { t: 'GRADS', step: 3, shard: 1, lossSum: NaN, count: 3, computeMs: 0 },
      { t: 'HEARTBEAT' },
      { t: 'BYE', reason: 'done' },
    ];
    for (const m of messages) {
      const d = decodeHeader(encodeHeader(m));
      expect(d.ok).toBe(true);
      expect(d.ok && d.msg).toEqual(m);
    }
  });

  it('a malformed prefetch hint is dropped, never the STEP', () => {
    const d = decodeHeader(pack({ t: 'STEP', step: 2, shard: 0, version: 1, params: false, items: [1], next: 'soon' }));
    expect(d).toEqual({ ok: true, msg: { t: 'STEP', step: 2, shard: 0, version: 1, params: false, items: [1] } });
  });

  it('rejects malformed headers with a reason naming the field', () => {
    const cases: [unknown, string][] = [
      [undefined, 'missing header frame'],
      [Buffer.from([0xc1, 0xc1, 0xc1]), 'header is not msgpack'],
      [pack('x'), 'header is string, expected a map'],
      [pack({ t: 'PING' }), 'unknown message type "PING"'],
      [pack({ t: 'HELLO', v: 1, worker: '', caps: {} }), 'HELLO.worker is ""'],
      [pack({ t: 'HELLO', v: 1.5, worker: 'a', caps: {} }), 'HELLO.v is 1.5, expected a protocol version'],
      [
        pack({ t: 'STEP', step: 0, shard: 0, version: 0, params: false, items: [] }),
        'STEP.step is 0, expected a positive integer',
      ],
      [
        pack({ t: 'STEP', step: 1, shard: 0, version: 0, params: 1, items: [] }),
        'STEP.params is 1, expected a boolean',
      ],
      [
        pack({ t: 'STEP', step: 1, shard: 0, version: 0, params: false, items: {} }),
        'STEP.items is {}, expected an array',
      ],
      [
        pack({ t: 'GRADS', step: 1, shard: 0, lossSum: 'x', count: 1, computeMs: 0 }),
        'GRADS.lossSum is "x", expected a number',
      ],
      [
        pack({ t: 'GRADS', step: 1, shard: 0, lossSum: 1, count: Infinity, computeMs: 0 }),
        'GRADS.count is null, expected a finite number >= 0',
      ],
      [pack({ t: 'BYE' }), 'BYE.reason is undefined'],
      [Buffer.alloc((1 << 20) + 1), 'header frame of 1048577 bytes (limit 1 MiB)'],
    ];
    for (const [frame, reason] of cases) {
      const d = decodeHeader(frame as Buffer);
      expect(d.ok, reason).toBe(false);
      expect(!d.ok && d.reason).toContain(reason);
    }
  });
});
