import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { cleanEnv, mustRun, type Packed, packKeyshift, ROOT } from './_pack.ts';
import { readmeSnippet } from './_readme.ts';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
};

describe('Package', () => {
  it('every export maps to a source file that exists (dist/x.js <- src/x.ts)', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const src = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      assert.ok(existsSync(src), `${subpath}: ${src} is missing`);
      assert.equal(target.types, target.default.replace(/\.js$/, '.d.ts'), `${subpath}: types and default disagree`);
    }
  });

  it('typesVersions (for moduleResolution node10) point at the same declarations as exports', () => {
    const raw = JSON.parse(readFileSync('package.json', 'utf8')) as { typesVersions?: Record<string, Record<string, string[]>> };
    const map = raw.typesVersions?.['*'] ?? {};
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string' || subpath === '.') continue;
      const listed = map[subpath.slice(2)];
      assert.ok(listed !== undefined, `typesVersions lacks ${subpath.slice(2)}: node10 projects could not resolve its types`);
      assert.deepEqual(listed, [target.types.replace(/^\.\//, '')], `typesVersions ${subpath.slice(2)} disagrees with exports`);
    }
  });

  it('keeps the core light: two runtime dependencies, cloud clients and pg as optional peers', () => {
    // @types/big.js too: t.decimal()'s public type is big.js's Big, and must resolve from the install alone
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@standard-schema/spec', '@types/big.js', 'big.js']);
    for (const peer of ['@google-cloud/secret-manager', '@aws-sdk/client-secrets-manager', 'pg', 'prom-client']) {
      assert.equal(pkg.peerDependenciesMeta[peer]?.optional, true, peer);
    }
  });

  it('the core entry point imports no optional peer, directly or transitively', () => {
    const external = new Set<string>();
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
        if (!spec) continue;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else external.add(spec);
      }
    };
    walk(resolve('src/index.ts'));
    assert.ok(seen.size > 10, 'walked the core');
    const allowed = ['big.js', 'node:'];
    for (const spec of external) assert.ok(allowed.some((a) => spec.startsWith(a)), `core imports ${spec}`);
  });
});

/** Every `any` keyword in a declaration file's code (comments and strings skipped). */
function anyTokens(text: string): number {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  let count = 0;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.AnyKeyword) count++;
  }
  return count;
}

async function listFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listFiles(path, out);
    else out.push(path);
  }
  return out;
}

const FRESH_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out',
  },
  include: ['*.ts'],
};

// What an adopter does: npm pack, install the tarball into a new project outside the
// repository, and follow the README. Slow (a build, an install, a typecheck), so one setup.
describe('Package: packed, installed into a fresh project', { timeout: 900_000 }, () => {
  let work: string;
  let app: string;
  let packed: Packed;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ks-pack-'));
    packed = await packKeyshift(work);
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'adopter', private: true, type: 'module' }));
    const typesNode = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@types/node'];
    // only what the quick start needs: keyshift (its two dependencies and big.js types) and Node's types; npm's cache first
    await mustRun('npm', ['install', packed.tarball, `@types/node@${typesNode}`, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], app, cleanEnv());
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('ships the build, the CLI, docs, README, LICENSE and CHANGELOG: no source maps, no demo, no tests', () => {
    console.log(`packed: ${packed.size} bytes, ${packed.files.length} files`);
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'bin/keyshift.mjs', 'dist/index.js', 'dist/index.d.ts']) {
      assert.ok(packed.files.includes(file), `${file} is packed`);
    }
    const stray = packed.files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') !== f.endsWith('.d.ts') || /^(src|test|examples|bench|scripts)\//.test(f) || f === 'bin/start.ts');
    assert.deepEqual(stray, []);
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    const meta = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['repository', 'homepage', 'bugs', 'license']) assert.ok(meta[field], `package.json has ${field}`);
  });

  it('every relative link in the shipped Markdown points at a shipped file', () => {
    const shipped = new Set(packed.files);
    const broken: string[] = [];
    for (const file of packed.files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (!target || /^[a-z]+:/i.test(target)) continue;
        const path = posix.normalize(posix.join(posix.dirname(file), target));
        if (!shipped.has(path) && !packed.files.some((f) => f.startsWith(`${path.replace(/\/$/, '')}/`))) broken.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it("typechecks the README's quick start with strict and skipLibCheck false; a decimal is big.js's Big, not any", async () => {
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(FRESH_TSCONFIG));
    await writeFile(join(app, 'quickstart.ts'), readmeSnippet('quick-start'));
    await writeFile(
      join(app, 'types.ts'),
      [
        "import type { Big } from 'big.js';",
        'type IsAny<T> = 0 extends 1 & T ? true : false;',
        "declare const ks: typeof import('./quickstart.js').ks;",
        'export function check(): void {',
        "  const fee = ks.get('FLAT_FEE');",
        '  const big: Big = fee;',
        '  // @ts-expect-error a decimal is a Big, not a number (unused if fee were any)',
        '  const n: number = fee;',
        '  const notAny: IsAny<typeof fee> = false;',
        "  const key: IsAny<ReturnType<typeof ks.get<'PAYMENTS_API_KEY'>>> = false;",
        '  void [big, n, notAny, key];',
        '}',
        '',
      ].join('\n'),
    );
    await mustRun(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app, cleanEnv());
  });

  it('typechecks, with no optional peer installed, every part whose use needs none (keyshift/admin included)', async () => {
    // skipLibCheck false: a declaration that imports a peer's types fails here even if the adopter never calls that part
    const peerFree = [
      'keyshift',
      'keyshift/sources/env',
      'keyshift/sources/dotenv',
      'keyshift/sources/file',
      'keyshift/sources/memory',
      'keyshift/sources/fallback-chain',
      'keyshift/sources/local-store',
      'keyshift/sources/gcp-pubsub-push',
      'keyshift/local-store',
      'keyshift/admin',
      'keyshift/adapters/node-http',
      'keyshift/rotation/keyring',
      'keyshift/testing',
    ];
    const dir = join(app, 'peer-free');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ ...FRESH_TSCONFIG, include: ['parts.ts'] }));
    await writeFile(join(dir, 'parts.ts'), `${peerFree.map((spec, i) => `import * as part${i} from '${spec}';`).join('\n')}\nexport const parts: unknown[] = [${peerFree.map((_, i) => `part${i}`).join(', ')}];\n`);
    await mustRun(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir, cleanEnv());
  });

  it('runs the quick start from the install, printing no secret', async () => {
    const secret = `canary-${Math.random().toString(36).slice(2)}`;
    await writeFile(
      join(app, 'seed.mjs'),
      [
        "import { openLocalStore } from 'keyshift/local-store';",
        "const store = await openLocalStore({ dir: '.keyshift/store' });",
        `await store.put('PAYMENTS_API_KEY', '${secret}');`,
        "await store.put('PAYMENTS_URL', 'http://127.0.0.1:9/');",
        "await store.put('FLAT_FEE', '1.25');",
        "await store.put('SESSION_SIGNING_KEY', 's'.repeat(40));",
        'await store.close();',
      ].join('\n'),
    );
    await mustRun(process.execPath, ['seed.mjs'], app, cleanEnv());
    if (!existsSync(join(app, 'out/quickstart.js'))) {
      await mustRun(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app, cleanEnv());
    }
    const out = await mustRun(process.execPath, ['out/quickstart.js'], app, cleanEnv());
    assert.equal(out, '[redacted] 2.5\n');
    assert.ok(!out.includes(secret));
  });

  it('has no `any` in its public declaration files', async () => {
    const dts = (await listFiles(join(app, 'node_modules/keyshift/dist'))).filter((f) => f.endsWith('.d.ts'));
    assert.ok(dts.length > 50, 'found the declarations');
    const withAny: string[] = [];
    for (const file of dts) if (anyTokens(await readFile(file, 'utf8')) > 0) withAny.push(file.slice(app.length + 1));
    assert.deepEqual(withAny, []);
  });

  it('every missing optional peer is KS_ERR_PEER_MISSING naming what needs it and the install command', async () => {
    await writeFile(
      join(app, 'peers.mjs'),
      [
        "import { createKeyshift, defineSecrets, t } from 'keyshift';",
        "import { memorySource } from 'keyshift/sources/memory';",
        "import { createRotatingPool } from 'keyshift/rotation/pg';",
        "import { startEmulator } from 'keyshift/emulator';",
        "import { awsSecretsManager } from 'keyshift/sources/aws-secrets-manager';",
        "import { gcpSecretManager } from 'keyshift/sources/gcp-secret-manager';",
        "import { collectFleet, startFleetReporter } from 'keyshift/fleet';",
        'const out = {};',
        'const report = (name) => (e) => { out[name] = { code: e.code, message: e.message }; };',
        "await startEmulator({ storeDir: '.keyshift/emulator' }).then((e) => e.close(), report('emulator'));",
        "await awsSecretsManager({ clientConfig: { region: 'us-east-1' } }).get('A', { signal: AbortSignal.timeout(10_000) }).catch(report('aws'));",
        "await gcpSecretManager({ project: 'p' }).get('A', { signal: AbortSignal.timeout(10_000) }).catch(report('gcp'));",
        "await startFleetReporter({ topic: 'projects/p/topics/fleet', managers: [], instance: { instanceId: 'i' } }).then((r) => r.close(), report('fleet'));",
        "await collectFleet({ fleetTopic: 'projects/p/topics/fleet', listenMs: 1 }).catch(report('collect'));",
        "const secrets = defineSecrets({ DB_PASSWORD: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' } });",
        "const ks = createKeyshift(secrets, { source: memorySource({ values: { DB_PASSWORD: 'x' } }) });",
        'await ks.ready();',
        "await createRotatingPool({ keyshift: ks, password: 'DB_PASSWORD', user: 'app' }).catch(report('pg'));",
        'await ks.close();',
        'console.log(JSON.stringify(out));',
      ].join('\n'),
    );
    const out = JSON.parse(await mustRun(process.execPath, ['peers.mjs'], app, cleanEnv())) as Record<string, { code: string; message: string }>;
    const expected: Record<string, RegExp> = {
      emulator: /^the Secret Manager emulator needs the optional peers @grpc\/grpc-js, @grpc\/proto-loader, @google-cloud\/secret-manager, which is not installed: npm install @grpc\/grpc-js @grpc\/proto-loader @google-cloud\/secret-manager/,
      aws: /^awsSecretsManager needs the optional peer @aws-sdk\/client-secrets-manager, which is not installed: npm install @aws-sdk\/client-secrets-manager$/,
      gcp: /needs the optional peer @google-cloud\/secret-manager, which is not installed: npm install @google-cloud\/secret-manager$/,
      pg: /^keyshift\/rotation\/pg \(createRotatingPool\) needs the optional peer pg, which is not installed: npm install pg$/,
      fleet: /^startFleetReporter needs the optional peer @google-cloud\/pubsub, which is not installed: npm install @google-cloud\/pubsub$/,
      collect: /^keyshift fleet \(collectFleet\) needs the optional peer @google-cloud\/pubsub, which is not installed: npm install @google-cloud\/pubsub$/,
    };
    for (const [name, message] of Object.entries(expected)) {
      assert.equal(out[name]?.code, 'KS_ERR_PEER_MISSING', `${name}: ${JSON.stringify(out[name])}`);
      assert.match(out[name]?.message ?? '', message);
    }
  });

  it('require() works from CommonJS (Node 20.19+ loads ES modules synchronously)', async () => {
    const out = await mustRun(process.execPath, ['-e', "const k = require('keyshift'); console.log(typeof k.createKeyshift, typeof k.t.decimal)"], app, cleanEnv());
    assert.equal(out.trim(), 'function function');
  });
});
