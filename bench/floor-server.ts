// The floor: a bare `ws` broadcast server that stores nothing. A client joins a room with a frame naming
// it ({"type":"subscribe","room":...}); every other frame goes, as the same bytes, to every member of the
// room it names, and back to its sender (its "ack"). Parley is measured against it.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const server = createServer((_req, res) => res.end('floor'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const rooms = new Map<string, Set<WebSocket>>();

wss.on('connection', (socket: WebSocket) => {
  const joined = new Set<string>();
  socket.on('message', (data, isBinary) => {
    const { type, room } = JSON.parse(data.toString()) as { type?: string; room?: string };
    if (room === undefined) return;
    if (type === 'subscribe') {
      let members = rooms.get(room);
      if (!members) rooms.set(room, (members = new Set()));
      members.add(socket);
      joined.add(room);
      return;
    }
    const members = rooms.get(room);
    for (const client of members ?? []) client.send(data, { binary: isBinary });
    if (!members?.has(socket)) socket.send(data, { binary: isBinary });
  });
  socket.on('close', () => {
    for (const room of joined) rooms.get(room)?.delete(socket);
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : port });
});
process.on('SIGTERM', () => process.exit(0));
