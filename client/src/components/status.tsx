// The connection indicator: how this page is hearing from the server right now.
import type { ConnectionState } from '../connection';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  'live-ws': 'Live',
  'live-poll': 'Live (long-poll)',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const HINTS: Record<ConnectionState, string> = {
  connecting: 'Opening a connection to the server',
  'live-ws': 'Connected over WebSocket: messages arrive instantly',
  'live-poll': 'WebSocket is blocked here, so messages arrive over HTTP long-polling; Parley keeps trying WebSocket',
  reconnecting: 'The connection dropped; messages you send wait and go out once it is back',
  offline: 'Your device is offline; messages you send wait and go out once it is back',
};

export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <span class={`status status-${state}`} role="status" title={HINTS[state]} data-state={state}>
      <span class="status-dot" aria-hidden="true" />
      <span class="status-label">{LABELS[state]}</span>
    </span>
  );
}
