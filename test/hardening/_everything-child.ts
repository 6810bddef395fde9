// Plan 37's child: everything of _everything.ts (no pg pool) started, exercised and
// closed, then nothing: the process must exit on its own, without process.exit().
import { startEverything, startInfra } from './_everything.ts';

const infra = await startInfra();
const everything = await startEverything(infra);
await everything.exercise(Number(process.argv[2] ?? 300));
await everything.close();
await infra.close();
process.stdout.write(`${JSON.stringify({ closedAt: performance.timeOrigin + performance.now(), ...everything.figures })}\n`);
