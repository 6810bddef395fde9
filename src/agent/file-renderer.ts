import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { lockDirectory } from './_dir-lock.ts';
import { renderTemplate } from './_render-template.ts';
import type { AgentSnapshot } from './agent-view.ts';

/** The file-system calls the renderer makes: replaceable, so tests can inject a full disk. */
export type RenderFs = Pick<typeof fsp, 'mkdir' | 'writeFile' | 'symlink' | 'rename' | 'rm' | 'readdir' | 'lstat' | 'unlink'>;

export interface FileRendererOptions {
  /** The directory applications read: `DIR/NAME -> ..data/NAME`. Created (0700) if missing. */
  dir: string;
  /** Entries rendered one per file. */
  entries: readonly string[];
  /** File name → `{{NAME}}` template. */
  templates?: Readonly<Record<string, string>>;
  /** How long a superseded directory stays for readers that resolved `..data` just before the swap. Default 1,000 ms. */
  retainMs?: number;
  /** Default node:fs/promises. */
  fs?: RenderFs;
}

export const DATA_LINK = '..data';
const TMP_LINK = '..data_tmp';

function renderError(dir: string, step: string, error: unknown): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return new KeyshiftError(ErrorCodes.RENDER_FAILED, `cannot render into ${dir}: ${step} failed (${code}); the previous files stay`, { cause: error, details: { errno: code } });
}

function stamp(sequence: number): string {
  const iso = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  return `..${iso}.${process.pid}.${sequence}`;
}

/**
 * Renders entries into a directory the way Kubernetes swaps a secret volume: every file
 * is written (0600) into a new timestamped directory, a `..data_tmp` symlink to it is
 * renamed over `..data` (one atomic rename), and each `NAME` is a symlink to
 * `..data/NAME`. A reader opens either the whole old set or the whole new one, never a
 * half-written file. A superseded directory is removed `retainMs` after the swap (a
 * reader descheduled between resolving `..data` and opening its file still finds it;
 * Kubernetes removes it at once and such a reader gets ENOENT). A
 * failed render (not writable, full disk) removes its own new directory and leaves
 * `..data` as it was. Renders are serialized; a change during one is rendered after it.
 */
export class FileRenderer {
  readonly dir: string;
  readonly #fs: RenderFs;
  readonly #entries: readonly string[];
  readonly #templates: Readonly<Record<string, string>>;
  readonly #release: () => Promise<void>;
  #sequence = 0;
  readonly #retainMs: number;
  #current: string | undefined;
  /** Superseded directories and when (performance.now) they were superseded. */
  readonly #superseded = new Map<string, number>();
  #sweep: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(options: FileRendererOptions, release: () => Promise<void>) {
    this.dir = options.dir;
    this.#fs = options.fs ?? fsp;
    this.#entries = options.entries;
    this.#templates = options.templates ?? {};
    this.#retainMs = options.retainMs ?? 1_000;
    this.#release = release;
  }

  /** Creates the directory if needed and takes its lock (KS_ERR_AGENT_LOCKED when another agent holds it). */
  static async open(options: FileRendererOptions): Promise<FileRenderer> {
    const fs = options.fs ?? fsp;
    try {
      await fs.mkdir(options.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw renderError(options.dir, 'creating the directory', error);
    }
    return new FileRenderer(options, await lockDirectory(options.dir));
  }

  /** Renders `snapshot`; resolves the new directory's name, or rejects with KS_ERR_RENDER_FAILED. */
  render(snapshot: AgentSnapshot): Promise<string> {
    const run = this.#chain.then(() => this.#swap(snapshot));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #files(snapshot: AgentSnapshot): Map<string, string> {
    const files = new Map<string, string>();
    const lookup = (name: string) => (snapshot.entries.has(name) ? (snapshot.entries.get(name)?.value ?? null) : undefined);
    for (const name of this.#entries) {
      const value = lookup(name);
      if (value !== undefined && value !== null) files.set(name, value);
    }
    for (const [file, template] of Object.entries(this.#templates)) {
      const text = renderTemplate(template, lookup);
      if (text !== undefined) files.set(file, text);
    }
    return files;
  }

  async #swap(snapshot: AgentSnapshot): Promise<string> {
    const fs = this.#fs;
    const name = stamp(++this.#sequence);
    const target = join(this.dir, name);
    const files = this.#files(snapshot);
    let step = 'creating the new directory';
    try {
      await fs.mkdir(target, { mode: 0o700 });
      step = 'writing a file';
      for (const [file, text] of files) await fs.writeFile(join(target, file), text, { mode: 0o600, flag: 'wx' });
      step = 'linking ..data';
      await fs.rm(join(this.dir, TMP_LINK), { force: true });
      await fs.symlink(name, join(this.dir, TMP_LINK));
      await fs.rename(join(this.dir, TMP_LINK), join(this.dir, DATA_LINK));
    } catch (error) {
      await fs.rm(target, { recursive: true, force: true }).catch(() => undefined);
      throw renderError(this.dir, step, error);
    }
    if (this.#current !== undefined) this.#superseded.set(this.#current, performance.now());
    this.#current = name;
    try {
      for (const file of files.keys()) await this.#linkFile(file);
      await this.#removeOld();
    } catch (error) {
      throw renderError(this.dir, 'linking the files', error);
    }
    return name;
  }

  /** `DIR/FILE -> ..data/FILE`, made once (through a rename, so it appears whole). */
  async #linkFile(file: string): Promise<void> {
    const path = join(this.dir, file);
    try {
      if ((await this.#fs.lstat(path)).isSymbolicLink()) return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const tmp = join(this.dir, `..${file}.tmp`);
    await this.#fs.rm(tmp, { force: true });
    await this.#fs.symlink(join(DATA_LINK, file), tmp);
    await this.#fs.rename(tmp, path);
  }

  /** Removes directories superseded more than retainMs ago (a previous run's count as superseded now), and schedules the rest. */
  async #removeOld(): Promise<void> {
    const now = performance.now();
    for (const entry of await this.#fs.readdir(this.dir)) {
      if (!entry.startsWith('..') || entry === this.#current || entry === DATA_LINK || entry === TMP_LINK || entry.endsWith('.tmp')) continue;
      const since = this.#superseded.get(entry) ?? this.#superseded.set(entry, now).get(entry) ?? now;
      if (now - since < this.#retainMs) continue;
      await this.#fs.rm(join(this.dir, entry), { recursive: true, force: true });
      this.#superseded.delete(entry);
    }
    if (this.#superseded.size > 0 && this.#sweep === undefined) {
      this.#sweep = setTimeout(() => {
        this.#sweep = undefined;
        this.#chain = this.#chain.then(() => this.#removeOld()).catch(() => undefined);
      }, this.#retainMs);
      this.#sweep.unref();
    }
  }

  /** Waits for the render in progress and releases the lock. The files stay (the application keeps reading them). */
  async close(): Promise<void> {
    if (this.#sweep !== undefined) clearTimeout(this.#sweep);
    await this.#chain;
    await this.#release();
  }
}
