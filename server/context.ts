// What every handler is given: the config, the store, the hub, the session signer, the per-client limits,
// the logger, the metrics, the open sockets and the writes under way.
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Hub } from './hub';
import type { ClientLimits } from './limits';
import type { Metrics } from './metrics';
import type { OpenSockets } from './open-sockets';
import type { Presence } from './presence';
import type { SessionSigner } from './session';
import type { MessageStore } from './store/store';
import type { InFlightWrites } from './writes';

export interface AppContext {
  readonly config: Config;
  readonly store: MessageStore;
  readonly hub: Hub;
  readonly sessions: SessionSigner;
  readonly limits: ClientLimits;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Who is in each room and who is typing (ephemeral). */
  readonly presence: Presence;
  /** The WebSockets open now. */
  readonly sockets: OpenSockets;
  /** Sends being written: a shutdown lets them finish before it closes the sockets. */
  readonly writes: InFlightWrites;
}
