/**
 * Bounds on a whole inbound message (frames x bytes), checked before anything in it is decoded.
 *
 * libzmq bounds each frame (the socket's maxMessageSize) but not how many frames a message has,
 * and it hands a multipart message over only whole (zeromq.js reads every part natively before
 * JavaScript sees it). So these bounds keep a hostile message from being decoded or handled, and
 * free it at once; they cannot keep it from being buffered. Only CURVE's allow-list keeps strangers
 * off the socket (docs/protocol.md, "Security").
 */
import { decodeHeader, MAX_HEADER_BYTES, type Message } from '../protocol.js';

/** Largest header a peer that has not said HELLO may send (a HELLO is a few hundred bytes). */
export const MAX_HELLO_BYTES = 64 << 10;

/**
 * Why `frames` (the message after the routing id) is refused unread, or null. A peer that has not
 * joined may send only a HELLO: one header frame of at most MAX_HELLO_BYTES. A joined worker may
 * send a header and at most one tensor frame, together at most MAX_HEADER_BYTES + `tensorBytes`.
 */
export function messageBoundError(frames: readonly Buffer[], joined: boolean, tensorBytes: number): string | null {
  const bytes = frames.reduce((n, f) => n + f.byteLength, 0);
  const [maxFrames, maxBytes] = joined ? [2, MAX_HEADER_BYTES + tensorBytes] : [1, MAX_HELLO_BYTES];
  if (frames.length <= maxFrames && bytes <= maxBytes) return null;
  const who = joined ? 'a worker' : 'a peer that has not said HELLO';
  return `message of ${frames.length} frame(s), ${bytes} bytes, from ${who} (at most ${maxFrames} frame(s), ${maxBytes} bytes); not decoded`;
}

/**
 * A message (after the routing id) read as messageBoundError allows it: its header decoded, and its data frame
 * (a GRADS message has one, the others none); or why it is refused.
 */
export function inboundMessage(
  frames: readonly Buffer[],
  joined: boolean,
  tensorBytes: number,
): { msg: Message; data: Buffer | undefined } | { refused: string } {
  const unbounded = messageBoundError(frames, joined, tensorBytes);
  if (unbounded) return { refused: unbounded };
  const [header, ...rest] = frames;
  const decoded = decodeHeader(header);
  if (!decoded.ok) return { refused: decoded.reason };
  const msg = decoded.msg;
  const tensorFrames = msg.t === 'GRADS' ? 1 : 0;
  if (rest.length !== tensorFrames)
    return { refused: `${msg.t} with ${rest.length} data frame(s), expected ${tensorFrames}` };
  return { msg, data: rest[0] };
}
