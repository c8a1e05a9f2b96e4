// Reasons the server cannot start that the person starting it can fix (a port in use, a data dir another
// process holds): `npm start` prints the message alone, as it does for a bad setting.
export class StartupError extends Error {
  override name = 'StartupError';
}
