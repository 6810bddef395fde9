// Plan 37, Pub/Sub pull alone: a subscription whose endpoint refuses connections,
// closed after `argv[2]` ms; then nothing. The process must exit on its own.
import { createServer } from 'node:net';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
await new Promise((resolve) => server.close(resolve)); // the port now refuses connections
const pull = await gcpPubSubPull({
  subscription: 'projects/hardening/subscriptions/keyshift',
  clientConfig: { apiEndpoint: `127.0.0.1:${port}`, projectId: 'hardening' },
  onInvalidate: () => {},
});
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2] ?? 500)));
await pull.close();
process.stdout.write(`${JSON.stringify({ closedAt: performance.timeOrigin + performance.now() })}\n`);
