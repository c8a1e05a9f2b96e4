// Runs the accounts contract (accounts.contract.ts) against every store: see every-store.ts.
import { describeAccountStoreContract } from './accounts.contract';
import { describeOnEveryStore } from './every-store';

await describeOnEveryStore('accounts', describeAccountStoreContract);
