// The sends being written right now, so a shutdown can let them finish (and their acks go out) before it
// closes the sockets and the store, and refuse the sends that come after it began.
import { ApiError } from './errors';
import { ErrorCode } from './protocol';

export class InFlightWrites {
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;

  /** Runs `write` unless the server is shutting down (then: a retryable store_unavailable). */
  track<T>(write: () => Promise<T>): Promise<T> {
    if (this.closing) {
      throw new ApiError(ErrorCode.storeUnavailable, 'the server is shutting down; the message will be sent again once it is back');
    }
    const promise = write();
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Refuses new writes and resolves once those under way have settled, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
