// What an operator graphs: open connections, stored messages, deliveries and their latency, refused
// input and store errors, in the Prometheus text format at GET /metrics. One registry per server, so
// that several servers in one process (the tests) count apart.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from './protocol';

export type Transport = 'websocket' | 'longpoll';

export class Metrics {
  readonly registry = new Registry();
  private readonly stored: Counter;
  /** One child per transport, bound once: inc() on the hot path does no label lookup. */
  private readonly deliveries: Record<Transport, { inc(value: number): void }>;
  private readonly latency: Histogram;
  private readonly rejected: Counter<'code'>;
  private readonly storeErrors: Counter;
  private readonly connectionsDropped: Counter;
  private openConnections: () => Record<Transport, number> = () => ({ websocket: 0, longpoll: 0 });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const open = () => this.openConnections();
    new Gauge({
      name: 'parley_open_connections',
      help: 'Connections held open now: WebSockets, and GET /wait requests waiting for a message',
      labelNames: ['transport'] as const,
      registers: [this.registry],
      collect() {
        const now = open();
        this.set({ transport: 'websocket' }, now.websocket);
        this.set({ transport: 'longpoll' }, now.longpoll);
      },
    });
    this.stored = new Counter({
      name: 'parley_messages_stored_total',
      help: 'Messages this instance stored (resends of a stored message not counted)',
      registers: [this.registry],
    });
    const deliveries = new Counter({
      name: 'parley_deliveries_total',
      help: 'Messages handed to readers: one per message per WebSocket subscriber or /wait answer',
      labelNames: ['transport'] as const,
      registers: [this.registry],
    });
    // Children exist from the start, so a dashboard shows 0 rather than "no data".
    this.deliveries = { websocket: deliveries.labels('websocket'), longpoll: deliveries.labels('longpoll') };
    this.deliveries.websocket.inc(0);
    this.deliveries.longpoll.inc(0);
    this.latency = new Histogram({
      name: 'parley_delivery_latency_seconds',
      help: 'From the store stamping a message to its frame being written to every live reader of the room',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: 'parley_rejected_total',
      help: 'Requests, frames and upgrades answered with an error, by error code',
      labelNames: ['code'] as const,
      registers: [this.registry],
    });
    this.storeErrors = new Counter({
      name: 'parley_store_errors_total',
      help: 'Store operations that failed (the client got store_unavailable)',
      registers: [this.registry],
    });
    this.connectionsDropped = new Counter({
      name: 'parley_connections_dropped_total',
      help: 'TCP connections closed unanswered at once because their IP held MAX_TCP_CONNECTIONS_PER_IP already',
      registers: [this.registry],
    });
  }

  /** Where the open-connections gauge reads its figures, at each scrape (no bookkeeping on the hot path). */
  countOpenConnections(open: () => Record<Transport, number>): void {
    this.openConnections = open;
  }

  messageStored(): void {
    this.stored.inc();
  }

  delivered(transport: Transport, messages: number): void {
    this.deliveries[transport].inc(messages);
  }

  /** A message fanned out `seconds` after the store stamped it. */
  fannedOut(seconds: number): void {
    this.latency.observe(seconds);
  }

  /** A TCP connection closed as it opened: its IP was at its cap. */
  connectionDropped(): void {
    this.connectionsDropped.inc();
  }

  refused(code: ErrorCode): void {
    this.rejected.inc({ code });
    if (code === 'store_unavailable') this.storeErrors.inc();
  }
}
