// Runs the rooms contract (rooms.contract.ts) against every store: see every-store.ts.
import { describeOnEveryStore } from './every-store';
import { describeRoomStoreContract } from './rooms.contract';

await describeOnEveryStore('rooms', describeRoomStoreContract);
