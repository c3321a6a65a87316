/**
 * The coordinator's socket: the bound ROUTER, its send queue (zeromq.js allows one pending send per
 * socket), the count of open connections, and a close that lets the workers read their BYE first.
 * Frames in, frames out; what the messages mean is the coordinator's.
 */
import type * as zmq from 'zeromq';
import { floatFrame } from '../frames.js';
import type { Logger } from '../logger.js';
import { encodeHeader, type Message } from '../protocol.js';
import { SendQueue } from '../send-queue.js';

export class Wire {
  private readonly queue: SendQueue;
  /** Open TCP/IPC connections (accepted minus disconnected). */
  private connections = 0;

  /** `onDisconnect`: a connection closed (which worker it was, the coordinator has to find out). */
  constructor(
    private readonly router: zmq.Router,
    private readonly log: Logger,
    onDisconnect: () => void,
  ) {
    this.queue = new SendQueue(router);
    router.events.on('accept', () => this.connections++);
    router.events.on('disconnect', () => {
      this.connections--;
      onDisconnect();
    });
  }

  /** Hands each inbound message (routing id first) to `onMessage` until the socket closes. */
  async receive(onMessage: (frames: Buffer[]) => void, closing: () => boolean): Promise<void> {
    try {
      for await (const frames of this.router) onMessage(frames);
    } catch (err) {
      if (!closing()) this.log('error', `coordinator receive loop stopped: ${(err as Error).message}`);
    }
  }

  /** Queues `msg` (and `tensor` as its data frame) for routing id `rid`; rejects with that send's error. */
  send(rid: Buffer, msg: Message, tensor?: Float32Array): Promise<void> {
    const frames = [rid, encodeHeader(msg)];
    if (tensor) frames.push(floatFrame(tensor));
    return this.queue.send(frames);
  }

  /** Says BYE to `rid` without waiting; `who` names it in the debug log (a failed BYE is not an error). */
  bye(rid: Buffer, reason: string, who: string): void {
    void this.send(rid, { t: 'BYE', reason }).then(
      () => this.log('debug', `BYE sent to ${who}`),
      (err: Error) => this.log('debug', `BYE to ${who} failed: ${err.message}`),
    );
  }

  /**
   * Closes the socket once the queued sends are out. libzmq may drop messages still queued when the
   * socket closes, linger or not: wait (up to 1 s) until the workers, having read BYE, have closed
   * their connections.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + 1000;
    await Promise.race([this.queue.drain(), new Promise((r) => setTimeout(r, 1000))]);
    while (this.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.router.close();
  }
}
