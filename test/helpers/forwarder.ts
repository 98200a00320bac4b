/** An HTTP forwarder in front of a real peer that records what it forwards (the requests a test counts or reads). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function recordingForwarder(target: string) {
  const urls: string[] = [];
  const server = http.createServer((req, res) => {
    urls.push(req.url ?? '/');
    const up = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => urls.length,
    /** Request targets (path and query) in the order they came. */
    urls: () => [...urls],
    close: () => new Promise((r) => server.close(r)),
  };
}
