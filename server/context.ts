// What every handler is given: the config, the store, the hub, the accounts and sessions, the rooms, the per-client limits,
// the logger, the metrics, the open sockets and the writes under way.
import type { Logger } from 'pino';
import type { Accounts } from './accounts/accounts';
import type { Config } from './config';
import type { UploadsUnderWay } from './files/files';
import type { Hub } from './hub';
import type { ClientLimits } from './limits';
import type { Metrics } from './metrics';
import type { OpenSockets } from './open-sockets';
import type { Presence } from './presence';
import type { Rooms } from './rooms/rooms';
import type { Store } from './store/store';
import type { InFlightWrites } from './writes';

export interface AppContext {
  readonly config: Config;
  readonly store: Store;
  readonly hub: Hub;
  /** Who each request comes from: sign-up, sign-in, guests, sessions. */
  readonly accounts: Accounts;
  /** Private rooms, direct messages, roles, mutes and bans; who may read and post where (rooms/access.ts). */
  readonly rooms: Rooms;
  readonly limits: ClientLimits;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Who is in each room and who is typing (ephemeral). */
  readonly presence: Presence;
  /** The WebSockets open now. */
  readonly sockets: OpenSockets;
  /** Sends being written: a shutdown lets them finish before it closes the sockets. */
  readonly writes: InFlightWrites;
  /** File uploads being streamed, per person. */
  readonly uploads: UploadsUnderWay;
}
