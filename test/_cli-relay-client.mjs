// The `keyshift` a shell script gets from startCliRelay() (test/_cli-relay.ts): plain
// JavaScript, so it starts in a few milliseconds. It sends its argv, environment, working
// directory and stdin (read to its end) over a unix socket to the test process, which runs
// the CLI's main() in-process, and it writes back what that printed and exits with its code.
import { connect } from 'node:net';

const socketPath = process.env.KEYSHIFT_CLI_RELAY;
if (!socketPath) {
  process.stderr.write('keyshift relay: KEYSHIFT_CLI_RELAY is not set\n');
  process.exit(70);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { KEYSHIFT_CLI_RELAY: _, ...env } = process.env;
const request = JSON.stringify({ argv: process.argv.slice(2), env, cwd: process.cwd(), stdin: Buffer.concat(chunks).toString('base64') });
const socket = connect(socketPath);
const answer = [];
socket.on('data', (chunk) => answer.push(chunk));
socket.on('error', (error) => {
  process.stderr.write(`keyshift relay: ${error.message}\n`);
  process.exit(70);
});
socket.on('end', () => {
  const { code, stdout, stderr } = JSON.parse(Buffer.concat(answer).toString('utf8'));
  process.stdout.write(Buffer.from(stdout, 'base64'));
  process.stderr.write(stderr, () => process.exit(code));
});
socket.end(request);
