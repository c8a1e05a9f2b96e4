// The second reference: a Socket.IO 4 server that stores nothing, as a Socket.IO chat would be written. A
// reader joins a room with the event 'join' (acked once it is in); a sender's 'send' {room, clientId, text}
// goes to every member of the room as the event 'message' and is acked to its sender. Parley's long-poll is
// measured against its polling transport; its websocket transport carries the senders.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

interface BenchMessage {
  room: string;
  clientId: string;
  text: string;
}

const port = Number(process.env.PORT ?? 0);
const server = createServer();
// Socket.IO's defaults otherwise (polling and websocket, 25 s pings); no client of the bench asks for
// compression, so neither transport compresses, as Parley does not.
const io = new Server(server, { serveClient: false });

io.on('connection', (socket) => {
  // A reader joins a room: from then on it gets every message sent to it.
  socket.on('join', (room: unknown, ack?: () => void) => {
    if (typeof room !== 'string') return;
    void socket.join(room);
    if (typeof ack === 'function') ack();
  });
  // A sender's message goes to everyone in its room, then its ack to the sender (nothing is kept).
  socket.on('send', (message: BenchMessage, ack?: () => void) => {
    if (typeof message?.room !== 'string') return;
    io.to(message.room).emit('message', message);
    if (typeof ack === 'function') ack();
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : port });
});
process.on('SIGTERM', () => process.exit(0));
