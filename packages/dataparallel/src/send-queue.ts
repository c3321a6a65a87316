import type { Writable } from 'zeromq';

/**
 * Serialises sends on one socket: zeromq.js allows a single pending send per socket, so
 * concurrent callers queue here. Each call resolves when its message is handed to libzmq
 * (or rejects with that send's error, without blocking the messages behind it).
 */
export class SendQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly socket: Writable) {}

  send(frames: (Buffer | string)[]): Promise<void> {
    const result = this.tail.then(() => this.socket.send(frames));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every queued send has completed or failed. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
