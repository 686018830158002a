// Reference server: the smallest Node.js `ws` broadcast (not part of launchday).
//
// The load test measures launchday's launch fan-out against this. It accepts
// any number of WebSocket connections on "/", greets each with one "hello"
// text frame, and when a control connection on "/control" sends the text
// "broadcast" it sends one pre-encoded frame payload (a Buffer made once from
// the payload file) to every other open connection, as the ws README's
// broadcast example does, then answers the control connection with
// {"fanout_s": <time in the loop>, "n": <sockets>}.
//
//     node loadtest/refs/node/server.js <port, 0 for any> <payload file>
//
// Prints {"ready": <port>} on stdout once listening. Compression is off, as
// for launchday's sockets.
'use strict';

const fs = require('fs');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const frame = Buffer.from(fs.readFileSync(process.argv[3], 'utf8'), 'utf8');
const clients = new Set();
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false,
                                  maxPayload: 64 * 1024 });

wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  if (req.url === '/control') {
    ws.on('message', (data) => {
      if (data.toString() !== 'broadcast') return;
      const t0 = process.hrtime.bigint();
      let n = 0;
      for (const c of clients) {
        if (c.readyState === WebSocket.OPEN) {
          c.send(frame, { binary: false });
          n++;
        }
      }
      const fanout = Number(process.hrtime.bigint() - t0) / 1e9;
      ws.send(JSON.stringify({ fanout_s: fanout, n }));
    });
    return;
  }
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.send('hello');
});

wss.on('listening', () => {
  process.stdout.write(JSON.stringify({ ready: wss.address().port }) + '\n');
});

process.on('SIGTERM', () => process.exit(0));
