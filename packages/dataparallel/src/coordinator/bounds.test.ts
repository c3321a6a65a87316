import { describe, expect, it } from 'vitest';
import { encodeHeader, MAX_HEADER_BYTES } from '../protocol.js';
import { inboundMessage, MAX_HELLO_BYTES, messageBoundError } from './bounds.js';

const frames = (...sizes: number[]) => sizes.map((n) => Buffer.alloc(n));

describe('messageBoundError', () => {
  it('lets a stranger send one header frame of at most MAX_HELLO_BYTES', () => {
    expect(messageBoundError(frames(200), false, 400)).toBeNull();
    expect(messageBoundError(frames(MAX_HELLO_BYTES), false, 400)).toBeNull();
    expect(messageBoundError(frames(MAX_HELLO_BYTES + 1), false, 400)).toBe(
      `message of 1 frame(s), ${MAX_HELLO_BYTES + 1} bytes, from a peer that has not said HELLO (at most 1 frame(s), ${MAX_HELLO_BYTES} bytes); not decoded`,
    );
    // A header and a gradient-sized frame: valid from a worker, not from a stranger.
    expect(messageBoundError(frames(100, 400), false, 400)).toMatch(
      /^message of 2 frame\(s\), 500 bytes, from a peer that has not said HELLO/,
    );
  });

  it('lets a worker send a header and one tensor frame, MAX_HEADER_BYTES + the tensor bytes in all', () => {
    expect(messageBoundError(frames(100, 400), true, 400)).toBeNull();
    expect(messageBoundError(frames(MAX_HEADER_BYTES, 400), true, 400)).toBeNull();
    expect(messageBoundError(frames(MAX_HEADER_BYTES, 401), true, 400)).toMatch(
      /bytes, from a worker \(at most 2 frame\(s\)/,
    );
    // 97 frames, as in the reproduction (small here: the count alone refuses it).
    expect(messageBoundError(frames(...Array<number>(97).fill(10)), true, 400)).toBe(
      `message of 97 frame(s), 970 bytes, from a worker (at most 2 frame(s), ${MAX_HEADER_BYTES + 400} bytes); not decoded`,
    );
  });
});

describe('inboundMessage', () => {
  it('decodes a bounded message; GRADS comes with its one data frame, the others with none', () => {
    const hb = encodeHeader({ t: 'HEARTBEAT' });
    expect(inboundMessage([hb], true, 400)).toEqual({ msg: { t: 'HEARTBEAT' }, data: undefined });
    const grads = encodeHeader({ t: 'GRADS', step: 1, shard: 0, lossSum: 1, count: 2, computeMs: 3 });
    const data = Buffer.alloc(400);
    expect(inboundMessage([grads, data], true, 400)).toMatchObject({ msg: { t: 'GRADS', step: 1 }, data });
  });

  it('refuses an unbounded message unread, an undecodable header, and a wrong number of data frames', () => {
    expect(inboundMessage(frames(MAX_HELLO_BYTES + 1), false, 400)).toEqual({
      refused: messageBoundError(frames(MAX_HELLO_BYTES + 1), false, 400),
    });
    expect(inboundMessage([Buffer.from('not msgpack')], true, 400)).toHaveProperty('refused');
    expect(inboundMessage([encodeHeader({ t: 'HEARTBEAT' }), Buffer.alloc(4)], true, 400)).toEqual({
      refused: 'HEARTBEAT with 1 data frame(s), expected 0',
    });
  });
});
