// The floor: a bare `ws` broadcast server that stores nothing. Every frame a client sends goes, as the
// same bytes, to every connected client (the sender too, which is its "ack"). Parley is measured against it.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 0);
const server = createServer((_req, res) => res.end('floor'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (socket: WebSocket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of wss.clients) client.send(data, { binary: isBinary });
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : port });
});
process.on('SIGTERM', () => process.exit(0));
