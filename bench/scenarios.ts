// What the orchestrator (run.ts) asks a load worker (load.ts) to do, and what the worker reports back.

export interface Target {
  /** Parley, the floor (bench/floor-server.ts) or Socket.IO 4 (bench/socketio-server.ts). */
  kind: 'parley' | 'floor' | 'socketio';
  /** http://127.0.0.1:port */
  url: string;
}

export type Transport = 'ws' | 'longpoll';

export type LoadCommand =
  | { scenario: 'hold'; target: Target; transport: Transport; count: number }
  | { scenario: 'fanout'; target: Target; transport: Transport; readers: number; messages: number; intervalMs: number }
  | { scenario: 'throughput'; target: Target; transport: Transport; senders: number; readers: number; seconds: number; split: boolean }
  | { scenario: 'paced'; target: Target; transport: Transport; senders: number; readers: number; seconds: number; rate: number; split: boolean }
  | { scenario: 'rooms'; target: Target; clients: number; rooms: number; roomsPerClient: number; senders: number; rate: number; seconds: number }
  | { scenario: 'storm'; target: Target; transport: Transport; clients: number; senders: number; rate: number; seconds: number };

export interface FanoutResult {
  /** Send to receipt at each reader, ms: the delay a user feels. */
  latencies: number[];
  /** Send to the sender's ack (Parley) or own echo (the floor), ms. */
  ackLatencies: number[];
  lost: number;
  duplicated: number;
  complete: boolean;
}

export interface ThroughputResult {
  acked: number;
  /** Long-poll answers the readers got: messages per answer is how much the server batched. */
  answers: number;
  elapsed: number;
  ackLatencies: number[];
  /** Send to receipt at each reader, ms. */
  latencies: number[];
  /** From a message's ack at its sender to its receipt at each reader, ms: how far readers trail the acks. */
  behindAckP50: number;
  behindAckP99: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  complete: boolean;
}

export interface RoomsResult extends ThroughputResult {
  /** Members of the biggest room. */
  biggest: number;
}

export interface StormResult extends ThroughputResult {
  /** From the server listening again until every reader held every message sent before then. */
  catchUpMs: number;
  /** Messages sent before the server listened again (before and while it was down). */
  sentBeforeListening: number;
  /** Connection attempts by the readers after their first. */
  reconnects: number;
  /** Resets the readers got (a cursor the restarted server could not serve): 0 expected. */
  resets: number;
  /** Error frames the readers got (a refused subscribe): 0 expected. */
  errors: number;
}

export type LoadReport =
  | { type: 'progress'; line: string }
  | { type: 'holding' }
  | { type: 'result'; result: Partial<FanoutResult & RoomsResult & StormResult> }
  | { type: 'error'; message: string };

/** The p-th percentile (0-100) of a list of numbers, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
